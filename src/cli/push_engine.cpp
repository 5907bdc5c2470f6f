#include "cli/push_engine.hpp"

#include "cli/app.hpp"
#include "cli/logging.hpp"
#include "cli/terminal.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/exit_codes.hpp>
#include <otaflash/io/random.hpp>
#include <otaflash/net/address.hpp>
#include <otaflash/net/connect_back_listener.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/net/push_session.hpp>
#include <otaflash/util/endpoint_text.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <deque>
#include <map>
#include <random>
#include <set>

namespace otaflash::cli {
namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

long long ms_between(steady::time_point a, steady::time_point b) {
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

json error_json(const failure& f) {
    return {{"code", code_name(f.code)},
            {"condition", condition_name(condition_of(f.code))},
            {"message", f.message},
            {"hint", f.hint}};
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

// name.local through our own mDNS query (no avahi or Bonjour needed); when nobody answers, the
// system resolver still gets a chance (nss-mdns, or a DNS zone that really is called .local).
result<std::vector<std::string>> resolve_addresses(const net::target& t, const net::mdns_options& mdns, log_sink& log) {
    if (!net::is_local_name(t.host)) return net::resolve_host(t.host);
    auto found = net::resolve_local_name(t.host, mdns, log);
    if (found) return found;
    if (auto system = net::resolve_host(t.host)) return system;
    return found;
}

// Runs every device of one run on one event loop.
class runner {
public:
    runner(app_context& ctx, const push_settings& settings, std::vector<push_device> devices, const run_policy& policy,
           const std::function<void(const device_outcome&)>& on_finished)
        : ctx_(ctx), settings_(settings), policy_(policy), on_finished_(on_finished),
          md5_hex_(to_hex(md5(settings.image))) {
        devices_.reserve(devices.size());  // sessions hold references to their device_run
        for (auto& d : devices) devices_.emplace_back().dev = std::move(d);
    }

    run_outcome run() {
        prepare();
        if (!out_.refused) {
            loop_.on_signals([this](int number) { on_signal(number); });
            pump();
            finish_when_idle();
            loop_.run();
        }
        out_.duration_ms = ms_between(started_, steady::now());
        for (auto& d : devices_) out_.devices.push_back(std::move(d.outcome));
        return std::move(out_);
    }

private:
    struct device_run {
        push_device dev;
        std::string address;   // numeric, of the device
        std::string local;     // ours, that the device dials
        std::string bind;      // where its listener listens
        net::connect_back_listener* listener = nullptr;
        std::unique_ptr<log_sink> log;
        std::unique_ptr<progress_sink> progress;
        // Every attempt's session, kept until the loop ends: their last handlers may still be queued.
        std::vector<std::unique_ptr<net::push_session>> sessions;
        net::push_session* current = nullptr;
        std::optional<net::event_loop::timer_id> retry_timer;
        std::optional<failure> last_error;
        std::string auth_note;  // ", sha256 auth" at the end of its summary
        bool prompted = false;
        bool started = false;
        bool done = false;
        device_outcome outcome;
    };

    bool fleet() const { return devices_.size() > 1 || (!devices_.empty() && !devices_.front().dev.label.empty()); }
    long long now_ms() const { return ms_between(started_, steady::now()); }

    // Resolution, addresses and listeners, before anything is sent.
    void prepare() {
        log_sink& base = cli_log();
        for (auto& d : devices_) {
            d.outcome.result = {{"target", d.dev.target_text}, {"result", "failed"}};
            d.log = std::make_unique<labelled_log>(base, d.dev.label);
            d.progress = ctx_.progress(d.dev.label, fleet());
        }
        std::vector<device_address> addresses;
        bool any_v6 = false;
        for (auto& d : devices_) {
            if (d.dev.refused) {
                end(d, device_status::failed, *d.dev.refused);
            } else if (auto found = resolve_addresses(d.dev.target, settings_.mdns, *d.log); !found) {
                end(d, device_status::failed, found.error());
            } else {
                d.address = found->front();
                any_v6 = any_v6 || net::is_ipv6(d.address);
                if (settings_.host_ip.empty() || net::is_wildcard(settings_.host_ip)) {
                    auto route = net::local_address_towards(d.address);
                    if (route) d.local = *route;
                    else end(d, device_status::failed, route.error());
                } else {
                    d.local = settings_.host_ip;
                }
            }
            addresses.push_back({d.dev.label.empty() ? d.dev.target_text : d.dev.label, d.done ? "" : d.address,
                                 d.dev.ports});
        }
        if (auto distinct = check_addresses(addresses); !distinct) {
            out_.refused = distinct.error();
            return;
        }
        // One wildcard for every family when asked: "::" is dual-stack, and one port cannot be
        // bound twice.
        const std::string wildcard = any_v6 ? "::" : "0.0.0.0";
        for (auto& d : devices_) {
            if (d.done) continue;
            d.bind = settings_.host_ip.empty() ? d.local : net::is_wildcard(settings_.host_ip) ? wildcard : settings_.host_ip;
            auto& listener = listeners_[d.bind];
            if (!listener) {
                auto opened = settings_.host_port ? net::connect_back_listener::open(loop_, d.bind, *settings_.host_port, base)
                              : settings_.espota_port_range ? open_in_espota_range(loop_, d.bind, base)
                                                            : net::connect_back_listener::open(loop_, d.bind, 0, base);
                if (!opened) {
                    out_.refused = opened.error();
                    return;
                }
                listener = std::move(*opened);
            }
            d.listener = listener.get();
            queue_.push_back(static_cast<std::size_t>(&d - devices_.data()));
        }
    }

    void pump() {
        while (!stopping_ && running_ < policy_.jobs) {
            auto next = std::find_if(queue_.begin(), queue_.end(),
                                     [&](std::size_t i) { return !busy_.contains(devices_[i].address); });
            if (next == queue_.end()) return;
            const std::size_t i = *next;
            queue_.erase(next);
            start(devices_[i]);
        }
    }

    void start(device_run& d) {
        if (!d.started) {
            d.started = true;
            d.outcome.start_ms = now_ms();
        }
        ++d.outcome.attempts;
        d.outcome.summary.clear();
        auto entropy = random_bytes(32);
        if (!entropy) return attempt_ended(d, nullptr, entropy.error());

        espota::session_config config;
        config.cmd = settings_.cmd;
        config.image_size = settings_.image.size();
        config.image_md5 = md5_hex_;
        config.host_port_pinned = settings_.host_port.has_value();
        config.device_ports = d.dev.ports;
        config.times = settings_.times;
        config.window = settings_.window;
        config.entropy = std::move(*entropy);
        config.creds.password = d.dev.password.password;
        config.creds.stored_hash = d.dev.password.stored_hash;
        config.creds.md5_only = settings_.md5_only;
        config.creds.can_prompt = d.dev.password.source == password_source::none && policy_.may_prompt;

        net::password_provider ask = [&d]() -> std::optional<secret> {
            d.prompted = true;
            auto typed = prompt_secret("Password for " + bracketed(d.address) + " (input hidden): ");
            if (!typed) return std::nullopt;
            return std::move(*typed);
        };
        auto session = net::push_session::create(loop_, *d.listener, {d.address, d.local}, std::move(config),
                                                 settings_.image, *d.progress, *d.log, std::move(ask));
        if (!session) return attempt_ended(d, nullptr, session.error());
        d.current = session->get();
        d.sessions.push_back(std::move(*session));
        busy_.insert(d.address);
        ++running_;
        d.current->start([this, &d] {
            net::push_session* finished = d.current;
            d.current = nullptr;
            --running_;
            busy_.erase(d.address);
            attempt_ended(d, &finished->report(), std::nullopt);
            pump();
            finish_when_idle();
        });
    }

    // One attempt is over: the device is done, or it goes again after the retry delay.
    void attempt_ended(device_run& d, const espota::session_report* report, std::optional<failure> local_error) {
        if (report) describe(d, *report);
        const std::optional<failure> error = report ? report->error : local_error;
        if (!error) return end(d, device_status::updated, std::nullopt);
        d.last_error = error;
        if (error->code == errc::cancelled_fail_fast || condition_of(error->code) == condition::interrupted)
            return end(d, device_status::cancelled, error);
        if (!stopping_ && worth_retrying(error->code) && d.outcome.attempts <= policy_.retries) {
            d.outcome.earlier_errors.emplace_back(code_name(error->code));
            d.log->write(log_level::warn, "attempt " + std::to_string(d.outcome.attempts) + " failed (" +
                                              std::string{code_name(error->code)} + "): " + error->message +
                                              "; trying again in " + std::to_string(policy_.retry_delay.count()) + " ms");
            d.retry_timer = loop_.call_after(policy_.retry_delay, [this, &d] {
                d.retry_timer.reset();
                queue_.push_back(static_cast<std::size_t>(&d - devices_.data()));
                pump();
                finish_when_idle();
            });
            return;
        }
        end(d, device_status::failed, error);
        if (policy_.fail_fast && !stopping_) {
            const std::string who = d.dev.label.empty() ? d.dev.target_text : d.dev.label;
            stop(make_failure(errc::cancelled_fail_fast, "cancelled: " + who + " failed and --fail-fast stops the run",
                              "fix " + who + " and push again"));
        }
    }

    // What a single push has always reported about its device, from the session's report.
    void describe(device_run& d, const espota::session_report& r) {
        json& j = d.outcome.result;
        d.outcome.warnings.insert(d.outcome.warnings.end(), r.warnings.begin(), r.warnings.end());
        json phases = json::array();
        for (const auto& p : r.phases)
            phases.push_back({{"name", phase_name(p.which)}, {"ms", ms_between(p.begin, p.end)}, {"outcome", outcome_name(p.outcome)}});
        json auth = nullptr;
        if (r.scheme) {
            const auto source = d.prompted ? password_source::prompt : d.dev.password.source;
            auth = {{"scheme", espota::scheme_name(*r.scheme)},
                    {"stored_hash", r.stored_hash.empty() ? json(nullptr) : json(r.stored_hash)},
                    {"attempts", r.auth_attempts},
                    {"password_source", source_name(source)}};
        }
        double upload_seconds = 0;
        if (r.upload_started && r.upload_finished)
            upload_seconds = std::chrono::duration<double>(*r.upload_finished - *r.upload_started).count();
        const double rate = upload_seconds > 0 ? static_cast<double>(r.bytes_sent) / upload_seconds : 0.0;
        const bool unconfirmed = r.error && condition_of(r.error->code) == condition::unconfirmed;

        j["address"] = d.address;
        j["port"] = r.device_port ? json(*r.device_port) : json(nullptr);
        j["ports_tried"] = d.dev.ports;
        j["local_address"] = d.local;
        j["host_port"] = d.listener->port();
        j["window"] = settings_.window;
        j["invitations"] = r.invitations;
        j["auth"] = auth;
        j["phases"] = std::move(phases);
        j["bytes_sent"] = r.bytes_sent;
        j["upload_ms"] = static_cast<long long>(upload_seconds * 1000.0);
        j["throughput_bps"] = static_cast<long long>(rate);
        j["device"] = {{"reply", r.device_reply.empty() ? json(nullptr) : json(r.device_reply)},
                       {"result", r.device_result.empty() ? json(nullptr) : json(r.device_result)}};
        j["result"] = !r.error ? "confirmed" : unconfirmed ? "unconfirmed" : "failed";

        const std::string where = r.device_port ? endpoint_text(d.address, *r.device_port) : bracketed(d.address);
        if (!r.error) {
            d.outcome.summary = where + ": confirmed by the device (OK): " +
                                std::to_string(r.bytes_sent) + " bytes, upload " +
                                std::to_string(j["upload_ms"].get<long long>()) + " ms at " + rate_text(rate);
            d.auth_note = r.scheme ? std::string{", "} + std::string{espota::scheme_name(*r.scheme)} + " auth" : "";
        } else {
            d.outcome.summary = where + ": " + std::string{code_name(r.error->code)};
        }
    }

    void end(device_run& d, device_status status, std::optional<failure> error) {
        d.done = true;
        auto& o = d.outcome;
        o.status = status;
        o.error = std::move(error);
        o.end_ms = now_ms();
        if (!d.started) o.start_ms = o.end_ms;
        // A single push counts from the start of the run (resolving its name included), as always.
        o.result["duration_ms"] = fleet() ? o.end_ms - o.start_ms : o.end_ms;
        if (status == device_status::updated) {
            o.summary += ", " + std::to_string(o.result["duration_ms"].get<long long>()) +  " ms in all" + d.auth_note;
        } else if (o.summary.empty()) {
            const std::string where = d.address.empty() ? d.dev.target_text : bracketed(d.address);
            o.summary = where + ": " + std::string{code_name(o.error->code)};
        }
        if (fleet()) {
            json& j = o.result;
            j.update(d.dev.facts);
            j["label"] = d.dev.label;
            j["status"] = status_name(status);
            j["attempts"] = o.attempts;
            j["earlier_errors"] = o.earlier_errors;
            j["start_ms"] = o.start_ms;
            j["end_ms"] = o.end_ms;
            j["error"] = o.error ? error_json(*o.error) : json(nullptr);
            j["exit_code"] = o.error ? exit_code_for(o.error->code) : exit_ok;
        }
        if (on_finished_) on_finished_(o);
    }

    // --fail-fast or a signal: start nothing more, cancel what runs (reset connections).
    void stop(const failure& why, std::optional<int> signal_number = std::nullopt) {
        stopping_ = true;
        for (auto& d : devices_) {
            if (d.done) continue;
            if (d.current) {
                d.current->cancel(signal_number ? interrupted(*signal_number, d.current->report()) : why);
            } else if (d.retry_timer) {
                loop_.cancel_timer(*d.retry_timer);
                d.retry_timer.reset();
                end(d, device_status::failed, d.last_error);
            }
        }
        for (std::size_t i : queue_) {
            auto& d = devices_[i];
            if (!d.last_error) d.outcome.result["result"] = "skipped";
            end(d, d.last_error ? device_status::failed : device_status::skipped, d.last_error ? d.last_error : why);
        }
        queue_.clear();
        finish_when_idle();
    }

    void on_signal(int number) {
        if (!out_.interrupted) {
            const bool term = number == SIGTERM;
            out_.interrupted = make_failure(term ? errc::interrupted_sigterm : errc::interrupted_sigint,
                                            std::string{"interrupted by "} + (term ? "SIGTERM" : "SIGINT") +
                                                ": open connections were reset, so those devices keep their current "
                                                "firmware; devices not yet started were skipped",
                                            "push again when ready");
        }
        stop(*out_.interrupted, number);
    }

    void finish_when_idle() {
        if (closed_ || running_ > 0 || !queue_.empty()) return;
        for (auto& d : devices_)
            if (d.retry_timer) return;
        closed_ = true;
        loop_.stop_signals();
        for (auto& [bind, listener] : listeners_) listener->close();
    }

    app_context& ctx_;
    const push_settings& settings_;
    const run_policy& policy_;
    const std::function<void(const device_outcome&)>& on_finished_;
    const std::string md5_hex_;
    const steady::time_point started_ = steady::now();
    net::event_loop loop_;
    std::map<std::string, std::unique_ptr<net::connect_back_listener>> listeners_;
    std::vector<device_run> devices_;
    std::deque<std::size_t> queue_;
    std::set<std::string> busy_;
    unsigned running_ = 0;
    bool stopping_ = false;
    bool closed_ = false;
    run_outcome out_;
};

}  // namespace

std::string_view status_name(device_status s) noexcept {
    switch (s) {
    case device_status::updated: return "updated";
    case device_status::failed: return "failed";
    case device_status::cancelled: return "cancelled";
    case device_status::skipped: return "skipped";
    }
    return "failed";
}

bool worth_retrying(errc code) noexcept {
    switch (condition_of(code)) {
    case condition::unreachable:
    case condition::transfer:
    case condition::unconfirmed: return true;
    default: return false;
    }
}

result<void> check_addresses(const std::vector<device_address>& devices) {
    for (std::size_t i = 0; i < devices.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            const auto& a = devices[j];
            const auto& b = devices[i];
            if (a.address.empty() || a.address != b.address) continue;
            auto shared = std::find_first_of(a.ports.begin(), a.ports.end(), b.ports.begin(), b.ports.end());
            if (shared == a.ports.end()) continue;
            return make_failure(errc::target_invalid,
                                "'" + a.label + "' and '" + b.label + "' are both " + endpoint_text(a.address, *shared) +
                                    ": one device listed twice",
                                "list each device once (a name and its address count as one); devices that share an "
                                "address need distinct ports, and then take turns");
        }
    }
    return {};
}

run_outcome run_pushes(app_context& ctx, const push_settings& settings, std::vector<push_device> devices,
                       const run_policy& policy, const std::function<void(const device_outcome&)>& on_finished) {
    runner r{ctx, settings, std::move(devices), policy, on_finished};
    return r.run();
}

push_outcome run_push(app_context& ctx, const push_settings& settings, push_device device, run_policy policy) {
    policy.jobs = 1;
    const std::string target_text = device.target_text;
    std::vector<push_device> one;
    one.push_back(std::move(device));
    run_outcome run = run_pushes(ctx, settings, std::move(one), policy, {});
    push_outcome out;
    json image = {{"path", settings.image_path},
                  {"size", settings.image.size()},
                  {"md5", to_hex(md5(settings.image))},
                  {"command", settings.cmd == espota::command::filesystem ? "filesystem" : "flash"}};
    image.update(settings.image_facts);
    if (run.refused) {
        out.error = run.refused;
        out.result = {{"target", target_text}, {"image", image}, {"result", "failed"}, {"duration_ms", run.duration_ms}};
        return out;
    }
    device_outcome& d = run.devices.front();
    out.error = std::move(d.error);
    out.warnings = std::move(d.warnings);
    out.summary = settings.image_path + " -> " + d.summary;
    out.result = std::move(d.result);
    out.result["image"] = std::move(image);
    if (policy.retries > 0) {
        out.result["attempts"] = d.attempts;
        out.result["earlier_errors"] = d.earlier_errors;
    }
    return out;
}

}  // namespace otaflash::cli
