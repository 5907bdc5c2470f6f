#include "cli/progress_render.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cinttypes>

namespace otaflash::cli {
namespace {

using steady = std::chrono::steady_clock;

std::string human_rate(double bytes_per_second) {
    char buf[32];
    if (bytes_per_second >= 1024.0 * 1024.0)
        std::snprintf(buf, sizeof buf, "%.1f MiB/s", bytes_per_second / (1024.0 * 1024.0));
    else
        std::snprintf(buf, sizeof buf, "%.1f KiB/s", bytes_per_second / 1024.0);
    return buf;
}

std::string prefix(const std::string& label) { return label.empty() ? std::string{} : "[" + label + "] "; }

class tty_bar final : public progress_sink {
public:
    tty_bar(std::FILE* out, int columns, std::string label) : out_(out), columns_(columns), label_(std::move(label)) {}
    ~tty_bar() override { clear_line(); }

    void phase_begin(phase p, std::string_view detail) override {
        clear_line();
        current_ = p;
        started_ = steady::now();
        std::fprintf(out_, "%s%s%s%.*s\n", prefix(label_).c_str(), std::string(phase_name(p)).c_str(),
                     detail.empty() ? "" : ": ", static_cast<int>(detail.size()), detail.data());
        std::fflush(out_);
    }
    void bytes_done(std::uint64_t done, std::uint64_t total) override {
        auto now = steady::now();
        if (done != total && now - last_draw_ < std::chrono::milliseconds(80)) return;
        last_draw_ = now;
        double elapsed = std::chrono::duration<double>(now - started_).count();
        double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
        std::string tail;
        char buf[96];
        if (total > 0) {
            double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : 0.0;
            std::snprintf(buf, sizeof buf, " %3d%% %s ETA %.0fs", static_cast<int>(done * 100 / total),
                          human_rate(rate).c_str(), eta);
        } else {
            std::snprintf(buf, sizeof buf, " %" PRIu64 " B %s", done, human_rate(rate).c_str());
        }
        tail = buf;
        std::string head = prefix(label_) + std::string(phase_name(current_)) + " [";
        int width = columns_ - static_cast<int>(head.size() + tail.size()) - 2;
        if (width < 10) width = 10;
        int filled = total > 0 ? static_cast<int>(static_cast<double>(std::min(done, total)) / static_cast<double>(total) * width) : 0;
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.append(static_cast<std::size_t>(width - filled), '.');
        std::fprintf(out_, "\r%s%s]%s", head.c_str(), bar.c_str(), tail.c_str());
        drawn_ = true;
        std::fflush(out_);
    }
    void phase_end(phase, phase_outcome) override { clear_line(); }

private:
    void clear_line() {
        if (!drawn_) return;
        std::fprintf(out_, "\r\033[K");
        std::fflush(out_);
        drawn_ = false;
    }
    std::FILE* out_;
    int columns_;
    std::string label_;
    phase current_ = phase::upload;
    steady::time_point started_ = steady::now();
    steady::time_point last_draw_{};
    bool drawn_ = false;
};

class plain_lines final : public progress_sink {
public:
    plain_lines(std::FILE* out, std::string label) : out_(out), label_(std::move(label)) {}

    void phase_begin(phase p, std::string_view detail) override {
        current_ = p;
        next_decile_ = 1;
        last_line_ = steady::now();
        std::fprintf(out_, "%s%s%s%.*s\n", prefix(label_).c_str(), std::string(phase_name(p)).c_str(),
                     detail.empty() ? "" : ": ", static_cast<int>(detail.size()), detail.data());
        std::fflush(out_);
    }
    void bytes_done(std::uint64_t done, std::uint64_t total) override {
        auto now = steady::now();
        bool decile = total > 0 && done * 10 >= next_decile_ * total;
        if (!decile && now - last_line_ < std::chrono::seconds(5)) return;
        while (total > 0 && done * 10 >= next_decile_ * total) ++next_decile_;
        last_line_ = now;
        if (total > 0)
            std::fprintf(out_, "%s%s: %d%% (%" PRIu64 " of %" PRIu64 " bytes)\n", prefix(label_).c_str(),
                         std::string(phase_name(current_)).c_str(), static_cast<int>(done * 100 / total), done, total);
        else
            std::fprintf(out_, "%s%s: %" PRIu64 " bytes\n", prefix(label_).c_str(),
                         std::string(phase_name(current_)).c_str(), done);
        std::fflush(out_);
    }

private:
    std::FILE* out_;
    std::string label_;
    phase current_ = phase::upload;
    std::uint64_t next_decile_ = 1;
    steady::time_point last_line_{};
};

class json_lines final : public progress_sink {
public:
    json_lines(std::FILE* out, std::string label) : out_(out), label_(std::move(label)) {}

    void phase_begin(phase p, std::string_view detail) override {
        emit({{"event", "phase_begin"}, {"phase", phase_name(p)}, {"detail", detail}});
    }
    void bytes_done(std::uint64_t done, std::uint64_t total) override {
        auto now = steady::now();
        if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        emit({{"event", "progress"}, {"bytes", done}, {"total", total}});
    }
    void phase_end(phase p, phase_outcome outcome) override {
        static constexpr const char* names[] = {"ok", "failed", "skipped"};
        emit({{"event", "phase_end"}, {"phase", phase_name(p)}, {"outcome", names[static_cast<int>(outcome)]}});
    }

private:
    void emit(nlohmann::json event) {
        event["t_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start_).count();
        if (!label_.empty()) event["target"] = label_;
        std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fprintf(out_, "%s\n", line.c_str());
        std::fflush(out_);
    }
    std::FILE* out_;
    std::string label_;
    steady::time_point start_ = steady::now();
    steady::time_point last_{};
};

}  // namespace

result<progress_mode> parse_progress_mode(const std::string& text) {
    if (text == "auto") return progress_mode::auto_;
    if (text == "bar") return progress_mode::bar;
    if (text == "plain") return progress_mode::plain;
    if (text == "json") return progress_mode::json;
    if (text == "none") return progress_mode::none;
    return make_failure(errc::usage_error, "unknown --progress mode '" + text + "'",
                        "use one of auto, bar, plain, json, none");
}

progress_mode resolve_progress_mode(progress_mode requested, const terminal_facts& facts, bool json_output,
                                    bool quiet) noexcept {
    if (requested != progress_mode::auto_) return requested;
    if (json_output || quiet) return progress_mode::none;
    if (facts.stderr_tty && !facts.ci && !facts.dumb) return progress_mode::bar;
    return progress_mode::plain;
}

std::unique_ptr<progress_sink> make_progress_renderer(progress_mode mode, const terminal_facts& facts,
                                                      std::string label, std::FILE* out) {
    switch (mode) {
    case progress_mode::bar: return std::make_unique<tty_bar>(out, facts.columns, std::move(label));
    case progress_mode::plain: return std::make_unique<plain_lines>(out, std::move(label));
    case progress_mode::json: return std::make_unique<json_lines>(out, std::move(label));
    case progress_mode::auto_:
    case progress_mode::none: break;
    }
    return std::make_unique<progress_sink>();
}

}  // namespace otaflash::cli
