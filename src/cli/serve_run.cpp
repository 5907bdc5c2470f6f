#include "cli/serve_run.hpp"

#include <otaflash/exit_codes.hpp>

#include <otaflash/io/file.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/release/delivery_tracker.hpp>

#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <sys/stat.h>

namespace otaflash::cli {
namespace {
using nlohmann::json;
using release::device_event;
using release::event_kind;

json to_json(const device_event& e) {
    json j = {{"event", "device"},   {"kind", release::kind_name(e.kind)}, {"device", e.device},
              {"transport", e.transport}, {"peer", e.peer}, {"request", e.request},
              {"chip", e.chip},      {"version", e.version},   {"offered", e.offered},
              {"decision", e.decision}, {"bytes", e.bytes}, {"total", e.total}, {"ms", e.ms},
              {"code", e.code ? json(code_name(*e.code)) : json(nullptr)}};
    return j;
}

std::string human_line(const device_event& e) {
    std::string who = e.device.empty() ? (e.peer.empty() ? "?" : e.peer) : e.device;
    std::string line = who + " " + e.transport + " " + std::string(release::kind_name(e.kind));
    if (!e.request.empty()) line += " " + e.request;
    if (!e.chip.empty()) line += " chip=" + e.chip;
    if (!e.version.empty()) line += " runs=" + e.version;
    if (!e.offered.empty()) line += " offered=" + e.offered;
    if (!e.decision.empty()) line += ": " + e.decision;
    if (e.kind == event_kind::progress && e.total > 0) line += " " + std::to_string(e.bytes * 100 / e.total) + "%";
    if (e.kind != event_kind::asked && e.kind != event_kind::started)
        line += " (" + std::to_string(e.bytes) + (e.total ? "/" + std::to_string(e.total) : std::string()) +
                " bytes, " + std::to_string(e.ms) + " ms)";
    return line;
}

// Padded to `width` (numbers to the right); longer text is kept whole.
std::string cell(std::string text, std::size_t width, bool right = false) {
    if (text.size() < width) text.insert(right ? 0 : text.size(), width - text.size(), ' ');
    return text;
}

std::string table_row(const std::string& device, const std::string& expected, const std::string& state,
                      const std::string& bytes, const std::string& decision) {
    return cell(device, 20) + " " + cell(expected, 9) + " " + cell(state, 16) + " " + cell(bytes, 10, true) + "  " +
           decision;
}

struct device_row {
    std::string state;     // the last final kind seen
    std::string decision;
    std::uint64_t bytes = 0;
};

}  // namespace

result<std::vector<std::string>> read_expected(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const auto& arg : args) {
        struct stat st {};
        if (::stat(arg.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            out.push_back(arg);
            continue;
        }
        auto text = read_file(arg, true);
        if (!text) return std::move(text).error();
        std::string_view rest = as_text(*text);
        while (!rest.empty()) {
            auto nl = rest.find('\n');
            auto line = rest.substr(0, nl);
            rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
            if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
            while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
            while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
            if (!line.empty()) out.emplace_back(line);
        }
    }
    return out;
}

int run_serve(const release::catalog& catalog, std::vector<std::unique_ptr<serve::backend>> backends,
              const serve_settings& settings, reporter& out) {
    out.stream_events();
    net::event_loop loop;
    release::delivery_tracker tracker(settings.expect);
    std::map<std::string, device_row> devices;
    std::map<std::string, int> shown_decile;
    std::uint64_t requests = 0, delivered = 0, bytes_out = 0;

    if (backends.empty())
        return out.fail("serve", make_failure(errc::usage_error, "nothing to serve on", "give --listen ADDR:PORT or --mqtt URL"));

    std::optional<errc> ending;  // set once the run is ending: what it ends with (nullopt = all done)
    bool stopping = false;
    std::optional<net::event_loop::timer_id> deadline_timer;
    std::size_t running = 0;

    auto finish = [&](std::optional<errc> why) {
        if (stopping) return;
        stopping = true;
        ending = why;
        if (deadline_timer) loop.cancel_timer(*deadline_timer);
        for (auto& b : backends)
            b->stop(settings.grace, [&] {
                if (--running == 0) loop.stop_signals();
            });
    };

    std::optional<failure> broken;  // a backend could not go on: the run ends with its failure
    auto on_failure = [&](const failure& f) {
        if (stopping) return;
        broken = f;
        finish(f.code);
    };

    auto sink = [&](const device_event& e) {
        // A transport reports each exchange once, by its end (asked, delivered, refused …).
        const bool ends = release::ends_exchange(e.kind);
        const std::string& who = e.device.empty() ? e.peer : e.device;
        if (ends) ++requests;
        // People get a progress line per device every 10 % at most; --json gets every event.
        bool show = out.json() || e.kind != event_kind::progress;
        if (!out.json() && e.kind == event_kind::progress && e.total > 0) {
            const int decile = static_cast<int>(e.bytes * 10 / e.total);
            int& shown = shown_decile[who];
            show = decile > shown;
            if (show) shown = decile;
        }
        if (e.kind != event_kind::progress) shown_decile.erase(who);  // its next transfer counts tenths afresh
        if (show && out.json()) out.event(to_json(e));
        else if (show) out.line(human_line(e));
        if (e.kind == event_kind::delivered) ++delivered;
        if (e.kind == event_kind::delivered || e.kind == event_kind::failed) bytes_out += e.bytes;
        if (!e.device.empty() && e.kind != event_kind::progress) {
            auto& row = devices[e.device];
            if (ends && e.kind != event_kind::asked) {
                row.state = std::string(release::kind_name(e.kind));
                row.decision = e.decision;
                row.bytes = e.bytes;
            }
        }
        if (tracker.record(e)) finish(std::nullopt);
    };

    std::vector<std::string> urls;
    for (auto& b : backends) {
        auto started = b->start(loop, catalog, sink, on_failure);
        if (!started) {
            for (std::size_t i = 0; i < running; ++i) backends[i]->stop(std::chrono::milliseconds(0), [] {});
            loop.run();
            return out.fail("serve", started.error());
        }
        ++running;
        for (auto& u : *started) urls.push_back(std::move(u));
    }
    out.event({{"event", "listening"}, {"urls", urls}});
    std::string listening = "listening on";
    for (const auto& u : urls) listening += " " + u;
    out.line(listening);

    loop.on_signals([&](int signal) {
        finish(signal == SIGTERM ? errc::interrupted_sigterm : errc::interrupted_sigint);
    });
    if (tracker.expecting() && settings.deadline)
        deadline_timer = loop.call_after(*settings.deadline, [&] {
            deadline_timer.reset();
            finish(tracker.shortfall());
        });
    loop.run();

    // The result: a backend's failure, interrupted, deadline shortfall, or all done (nullopt).
    std::optional<failure> error = broken;
    if (ending && !broken) {
        std::string message;
        std::string hint;
        switch (*ending) {
        case errc::interrupted_sigint:
        case errc::interrupted_sigterm:
            message = std::string("stopped by ") + (*ending == errc::interrupted_sigterm ? "SIGTERM" : "SIGINT");
            break;
        case errc::some_targets_failed:
            message = "the deadline passed and some expected devices failed";
            hint = "the table names each device's last decision";
            break;
        default:
            message = "the deadline passed before every expected device had the release";
            hint = "check that the missing devices are online and ask this server; or give a longer --deadline";
        }
        error = make_failure(*ending, message, hint);
    }
    json table = json::array();
    for (const auto& e : tracker.entries()) {
        auto seen = devices.find(e.device);
        table.push_back({{"device", e.device}, {"expected", true}, {"state", release::state_name(e.state)},
                         {"detail", e.detail}, {"bytes", seen == devices.end() ? 0 : seen->second.bytes}});
    }
    for (const auto& [id, row] : devices) {
        bool expected = false;
        for (const auto& e : tracker.entries()) expected = expected || e.device == id;
        if (!expected)
            table.push_back({{"device", id}, {"expected", false}, {"state", row.state.empty() ? "asked" : row.state},
                             {"detail", row.decision}, {"bytes", row.bytes}});
    }
    if (!table.empty()) out.line(table_row("DEVICE", "EXPECTED", "STATE", "BYTES", "LAST DECISION"));
    for (const auto& row : table)
        out.line(table_row(row["device"].get<std::string>(), row["expected"].get<bool>() ? "yes" : "no",
                           row["state"].get<std::string>(), std::to_string(row["bytes"].get<std::uint64_t>()),
                           row["detail"].get<std::string>()));
    out.line("served " + std::to_string(requests) + " requests, " + std::to_string(delivered) +
             " complete downloads, " + std::to_string(bytes_out) + " bytes");
    json summary = {{"requests", requests}, {"delivered", delivered}, {"bytes", bytes_out}, {"devices", table}};
    return error ? out.fail("serve", *error, std::move(summary)) : out.succeed("serve", std::move(summary));
}

}  // namespace otaflash::cli
