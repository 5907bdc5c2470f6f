#include "cli/push_engine.hpp"

#include "cli/app.hpp"
#include "cli/logging.hpp"
#include "cli/terminal.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/io/random.hpp>
#include <otaflash/net/address.hpp>
#include <otaflash/net/connect_back_listener.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/net/push_session.hpp>
#include <otaflash/util/endpoint_text.hpp>
#include <otaflash/util/hex.hpp>

#include <chrono>
#include <csignal>
#include <random>

namespace otaflash::cli {
namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

long long ms_between(espota::time_point a, espota::time_point b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

std::string_view outcome_name(phase_outcome o) {
    switch (o) {
    case phase_outcome::ok: return "ok";
    case phase_outcome::failed: return "failed";
    case phase_outcome::skipped: return "skipped";
    }
    return "failed";
}

std::string rate_text(double bytes_per_second) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f KiB/s", bytes_per_second / 1024.0);
    return buf;
}

// espota.py picks its port at random in 10000..60000; a few tries get past ports in use.
result<std::unique_ptr<net::connect_back_listener>> open_in_espota_range(net::event_loop& loop, const std::string& bind,
                                                                         log_sink& log) {
    std::random_device seed;
    std::mt19937 pick{seed()};
    std::uniform_int_distribution<int> port{10000, 60000};
    for (int attempt = 0;; ++attempt) {
        auto listener = net::connect_back_listener::open(loop, bind, static_cast<std::uint16_t>(port(pick)), log);
        if (listener || listener.error().code != errc::port_busy || attempt == 20) return listener;
    }
}

failure interrupted(int signal_number, const espota::session_report& report) {
    const bool term = signal_number == SIGTERM;
    const bool connected = report.upload_started.has_value();
    return make_failure(term ? errc::interrupted_sigterm : errc::interrupted_sigint,
                        std::string{"interrupted by "} + (term ? "SIGTERM" : "SIGINT") +
                            (connected ? " during the transfer; the connection was reset so the device leaves its "
                                         "update and keeps its current firmware"
                                       : " before any data was sent"),
                        "push again when ready");
}

}  // namespace

push_outcome run_push(app_context& ctx, push_plan plan) {
    push_outcome out;
    const auto started = steady::now();
    const std::string md5_hex = to_hex(md5(plan.image));
    json image = {{"path", plan.image_path},
                  {"size", plan.image.size()},
                  {"md5", md5_hex},
                  {"command", plan.cmd == espota::command::filesystem ? "filesystem" : "flash"}};
    image.update(plan.image_facts);
    out.result = {{"target", plan.target_text}, {"image", image}, {"result", "failed"}};
    auto finish_early = [&](failure f) {
        out.error = std::move(f);
        out.result["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count();
        return out;
    };

    auto addresses = net::resolve_host(plan.target.host);
    if (!addresses) return finish_early(std::move(addresses).error());
    const std::string device = addresses->front();
    const bool device_v6 = net::is_ipv6(device);

    std::string local;
    std::string bind = plan.host_ip;
    if (plan.host_ip.empty() || net::is_wildcard(plan.host_ip)) {
        auto route = net::local_address_towards(device);
        if (!route) return finish_early(std::move(route).error());
        local = *route;
        if (bind.empty()) bind = local;
        else bind = device_v6 ? "::" : "0.0.0.0";  // a wildcard of the device's family
    } else {
        local = plan.host_ip;
    }

    log_sink& log = cli_log();
    net::event_loop loop;
    auto listener = plan.host_port ? net::connect_back_listener::open(loop, bind, *plan.host_port, log)
                    : plan.espota_port_range ? open_in_espota_range(loop, bind, log)
                                             : net::connect_back_listener::open(loop, bind, 0, log);
    if (!listener) return finish_early(std::move(listener).error());

    auto entropy = random_bytes(32);
    if (!entropy) return finish_early(std::move(entropy).error());

    espota::session_config config;
    config.cmd = plan.cmd;
    config.image_size = plan.image.size();
    config.image_md5 = md5_hex;
    config.host_port_pinned = plan.host_port.has_value();
    config.device_ports = plan.ports;
    config.times = plan.times;
    config.window = plan.window;
    config.entropy = std::move(*entropy);
    config.creds.password = plan.password.password;
    config.creds.stored_hash = plan.password.stored_hash;
    config.creds.md5_only = plan.md5_only;
    config.creds.can_prompt = plan.password.source == password_source::none && ctx.may_prompt();

    auto progress = ctx.progress();
    bool prompted = false;
    net::password_provider ask = [&]() -> std::optional<secret> {
        prompted = true;
        auto typed = prompt_secret("Password for " + bracketed(device) + " (input hidden): ");
        if (!typed) return std::nullopt;
        return std::move(*typed);
    };
    auto session = net::push_session::create(loop, **listener, {device, local}, std::move(config), plan.image,
                                             *progress, log, std::move(ask));
    if (!session) return finish_early(std::move(session).error());

    loop.on_signals([&](int number) {
        (*session)->cancel(interrupted(number, (*session)->report()));
    });
    (*session)->start([&] {
        loop.stop_signals();
        (*listener)->close();
    });
    loop.run();
    progress.reset();  // clears a bar before the result lines

    const espota::session_report& r = (*session)->report();
    out.warnings = r.warnings;
    const std::string where = r.device_port ? endpoint_text(device, *r.device_port) : bracketed(device);
    json phases = json::array();
    for (const auto& p : r.phases)
        phases.push_back({{"name", phase_name(p.which)}, {"ms", ms_between(p.begin, p.end)}, {"outcome", outcome_name(p.outcome)}});
    json auth = nullptr;
    if (r.scheme) {
        const auto source = prompted ? password_source::prompt : plan.password.source;
        auth = {{"scheme", espota::scheme_name(*r.scheme)},
                {"stored_hash", r.stored_hash.empty() ? json(nullptr) : json(r.stored_hash)},
                {"attempts", r.auth_attempts},
                {"password_source", source_name(source)}};
    }
    double upload_seconds = 0;
    if (r.upload_started && r.upload_finished)
        upload_seconds = std::chrono::duration<double>(*r.upload_finished - *r.upload_started).count();
    const double rate = upload_seconds > 0 ? static_cast<double>(r.bytes_sent) / upload_seconds : 0.0;
    const bool confirmed = !r.error;
    const bool unconfirmed = r.error && condition_of(r.error->code) == condition::unconfirmed;

    out.result["address"] = device;
    out.result["port"] = r.device_port ? json(*r.device_port) : json(nullptr);
    out.result["ports_tried"] = plan.ports;
    out.result["local_address"] = local;
    out.result["host_port"] = (*listener)->port();
    out.result["window"] = plan.window;
    out.result["invitations"] = r.invitations;
    out.result["auth"] = auth;
    out.result["phases"] = std::move(phases);
    out.result["bytes_sent"] = r.bytes_sent;
    out.result["upload_ms"] = static_cast<long long>(upload_seconds * 1000.0);
    out.result["throughput_bps"] = static_cast<long long>(rate);
    out.result["device"] = {{"reply", r.device_reply.empty() ? json(nullptr) : json(r.device_reply)},
                            {"result", r.device_result.empty() ? json(nullptr) : json(r.device_result)}};
    out.result["result"] = confirmed ? "confirmed" : unconfirmed ? "unconfirmed" : "failed";
    out.result["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count();

    if (confirmed) {
        out.summary = plan.image_path + " -> " + where + ": confirmed by the device (OK): " +
                      std::to_string(r.bytes_sent) + " bytes, upload " +
                      std::to_string(out.result["upload_ms"].get<long long>()) + " ms at " + rate_text(rate) + ", " +
                      std::to_string(out.result["duration_ms"].get<long long>()) + " ms in all" +
                      (r.scheme ? std::string{", "} + std::string{espota::scheme_name(*r.scheme)} + " auth" : "");
    } else {
        out.error = *r.error;
        out.summary = plan.image_path + " -> " + where + ": " + std::string{code_name(r.error->code)};
    }
    return out;
}

}  // namespace otaflash::cli
