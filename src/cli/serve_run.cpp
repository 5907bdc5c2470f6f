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
    if (e.kind != event_kind::asked)
        line += " (" + std::to_string(e.bytes) + (e.total ? "/" + std::to_string(e.total) : std::string()) +
                " bytes, " + std::to_string(e.ms) + " ms)";
    return line;
}

void emit(std::FILE* out, const json& j) {
    auto text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    std::fprintf(out, "%s\n", text.c_str());
    std::fflush(out);
}

struct device_row {
    std::string state;     // the last final kind seen
    std::string transport, offered, decision;
    std::uint64_t bytes = 0;
    unsigned requests = 0;
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
              const serve_settings& settings) {
    net::event_loop loop;
    release::delivery_tracker tracker(settings.expect);
    std::map<std::string, device_row> devices;
    std::uint64_t requests = 0, delivered = 0, bytes_out = 0;

    auto fail_early = [&](const failure& f) {
        if (settings.json) {
            emit(settings.out, {{"event", "summary"}, {"ok", false}, {"exit_code", exit_code_for(f.code)},
                                {"error", {{"code", code_name(f.code)}, {"condition", condition_name(condition_of(f.code))},
                                           {"message", f.message}, {"hint", f.hint}}}});
        } else {
            std::fprintf(settings.err, "error: %s\n", f.message.c_str());
            if (!f.hint.empty()) std::fprintf(settings.err, "hint: %s\n", f.hint.c_str());
        }
        return exit_code_for(f.code);
    };
    if (backends.empty())
        return fail_early(make_failure(errc::usage_error, "nothing to serve on", "give --listen ADDR:PORT"));

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

    auto sink = [&](const device_event& e) {
        // A transport reports each request once, by its outcome (asked, delivered, refused …).
        if (e.kind != event_kind::progress) ++requests;
        if (e.kind != event_kind::progress) {
            if (settings.json) emit(settings.out, to_json(e));
            else std::fprintf(settings.out, "%s\n", human_line(e).c_str()), std::fflush(settings.out);
        } else if (settings.json) {
            emit(settings.out, to_json(e));
        }
        if (e.kind == event_kind::delivered) ++delivered;
        if (e.kind == event_kind::delivered || e.kind == event_kind::failed) bytes_out += e.bytes;
        if (!e.device.empty() && e.kind != event_kind::progress) {
            auto& row = devices[e.device];
            ++row.requests;
            if (e.kind != event_kind::asked) {
                row.state = std::string(release::kind_name(e.kind));
                row.transport = e.transport;
                row.offered = e.offered;
                row.decision = e.decision;
                row.bytes = e.bytes;
            }
        }
        if (tracker.record(e)) finish(std::nullopt);
    };

    std::vector<std::string> urls;
    for (auto& b : backends) {
        auto started = b->start(loop, catalog, sink);
        if (!started) {
            for (std::size_t i = 0; i < running; ++i) backends[i]->stop(std::chrono::milliseconds(0), [] {});
            loop.run();
            return fail_early(started.error());
        }
        ++running;
        for (auto& u : *started) urls.push_back(std::move(u));
    }
    if (settings.json) {
        emit(settings.out, {{"event", "listening"}, {"urls", urls}});
    } else {
        std::string line = "listening on";
        for (const auto& u : urls) line += " " + u;
        std::fprintf(settings.out, "%s\n", line.c_str());
        std::fflush(settings.out);
    }

    loop.on_signals([&](int signal) {
        finish(signal == SIGTERM ? errc::interrupted_sigterm : errc::interrupted_sigint);
    });
    if (tracker.expecting() && settings.deadline)
        deadline_timer = loop.call_after(*settings.deadline, [&] {
            deadline_timer.reset();
            finish(tracker.shortfall());
        });
    loop.run();

    // The result: interrupted, deadline shortfall, or all done (nullopt).
    std::optional<failure> error;
    if (ending) {
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
    const int code = error ? exit_code_for(error->code) : exit_ok;

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
    if (settings.json) {
        json summary = {{"event", "summary"}, {"ok", !error}, {"exit_code", code}, {"requests", requests},
                        {"delivered", delivered}, {"bytes", bytes_out}, {"devices", table}, {"error", nullptr}};
        if (error)
            summary["error"] = {{"code", code_name(error->code)}, {"condition", condition_name(condition_of(error->code))},
                                {"message", error->message}, {"hint", error->hint}};
        emit(settings.out, summary);
        return code;
    }
    if (!table.empty()) {
        std::fprintf(settings.out, "%-20s %-9s %-16s %10s  %s\n", "DEVICE", "EXPECTED", "STATE", "BYTES", "LAST DECISION");
        for (const auto& row : table)
            std::fprintf(settings.out, "%-20s %-9s %-16s %10llu  %s\n", row["device"].get<std::string>().c_str(),
                         row["expected"].get<bool>() ? "yes" : "no", row["state"].get<std::string>().c_str(),
                         static_cast<unsigned long long>(row["bytes"].get<std::uint64_t>()),
                         row["detail"].get<std::string>().c_str());
    }
    std::fprintf(settings.out, "served %llu requests, %llu complete downloads, %llu bytes\n",
                 static_cast<unsigned long long>(requests), static_cast<unsigned long long>(delivered),
                 static_cast<unsigned long long>(bytes_out));
    std::fflush(settings.out);
    if (error) {
        std::fprintf(settings.err, "error: %s\n", error->message.c_str());
        if (!error->hint.empty()) std::fprintf(settings.err, "hint: %s\n", error->hint.c_str());
    }
    return code;
}

}  // namespace otaflash::cli
