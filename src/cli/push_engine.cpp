#include "cli/push_engine.hpp"

#include "cli/app.hpp"
#include "cli/logging.hpp"
#include "cli/terminal.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/exit_codes.hpp>
#include <otaflash/io/interrupt.hpp>
#include <otaflash/io/random.hpp>
#include <otaflash/net/address.hpp>
#include <otaflash/net/connect_back_listener.hpp>
#include <otaflash/net/connect_back_pool.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/net/push_session.hpp>
#include <otaflash/util/endpoint_text.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
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

// What an interruption did to one device depends on how far its session got: before the data,
// nothing happened; during the transfer the reset makes the device leave its update; once every
// byte is out the device may already have verified and stored the image.
failure interrupted(int signal_number, const espota::session_report& report) {
    if (report.upload_finished)
        return io::interrupted_failure(
            signal_number,
            " after all " + std::to_string(report.bytes_sent) +
                " bytes were sent, while the device verified the image: the update is unconfirmed and may "
                "have been applied",
            "check the device (its version, its serial log) before pushing again");
    if (report.upload_started)
        return io::interrupted_failure(signal_number,
                                       " during the transfer; the connection was reset so the device leaves its "
                                       "update and keeps its current firmware",
                                       "push again when ready");
    return io::interrupted_failure(signal_number, " before any data was sent", "push again when ready");
}

// name.local through our own mDNS query (no avahi or Bonjour needed); when nobody answers, the
// system resolver still gets a chance (nss-mdns, or a DNS zone that really is called .local).
result<std::vector<std::string>> resolve_addresses(const net::target& t, const net::mdns_options& mdns, log_sink& log) {
    if (!net::is_local_name(t.host)) return net::resolve_host(t.host);
    auto found = net::resolve_local_name(t.host, mdns, log);
    if (found || condition_of(found.error().code) == condition::interrupted) return found;
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
        std::vector<std::string> addresses;  // numeric, of the device: every one its name resolved to
        std::size_t address_index = 0;       // the one tried now
        bool next_address = false;           // this start tries another address within the same attempt
        std::string address;   // addresses[address_index]
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
    std::size_t index_of(const device_run& d) const { return static_cast<std::size_t>(&d - devices_.data()); }

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
            if (const int signal_number = io::latched_interrupt()) {
                out_.refused = io::interrupted_failure(signal_number, " while the targets' names were resolved; "
                                                       "nothing was sent", "push again when ready");
                return;
            }
            if (d.dev.refused) {
                end(d, device_status::failed, *d.dev.refused);
            } else if (auto found = resolve_addresses(d.dev.target, settings_.mdns, *d.log); !found) {
                end(d, device_status::failed, found.error());
            } else {
                d.addresses = std::move(*found);
                d.address = d.addresses.front();
                any_v6 = any_v6 || std::any_of(d.addresses.begin(), d.addresses.end(), net::is_ipv6);
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
        wildcard_ = any_v6 ? "::" : "0.0.0.0";
        for (auto& d : devices_) {
            if (d.done) continue;
            if (auto placed = place(d); !placed) {
                end(d, device_status::failed, placed.error());
                continue;
            }
            // The first listener of each local address now: an unusable address or port refuses
            // the run before anything is sent.
            if (auto opened = pool_.open_first(d.bind); !opened) {
                out_.refused = opened.error();
                return;
            }
            queue_.push_back(index_of(d));
        }
        warn_about_shared_addresses(base);
    }

    // The local address that reaches the device's current address, and where its listener listens.
    result<void> place(device_run& d) {
        d.address = d.addresses[d.address_index];
        if (settings_.host_ip.empty() || net::is_wildcard(settings_.host_ip)) {
            auto route = net::local_address_towards(d.address);
            if (!route) return std::move(route).error();
            d.local = *route;
        } else {
            d.local = settings_.host_ip;
        }
        d.bind = settings_.host_ip.empty() ? d.local : net::is_wildcard(settings_.host_ip) ? wildcard_ : settings_.host_ip;
        return {};
    }

    // Devices at one address need a listener each; a --host-port range smaller than their number
    // makes them take turns, which the user should hear about before waiting for it.
    void warn_about_shared_addresses(log_sink& log) {
        const unsigned limit = pool_.per_address_limit();
        if (limit == 0 || policy_.jobs <= limit) return;
        std::map<std::string, unsigned> sharing;
        for (std::size_t i : queue_) ++sharing[devices_[i].address];
        const auto& range = *settings_.host_ports.fixed;
        const std::string ports = std::to_string(range.first) + (range.size() > 1 ? "-" + std::to_string(range.last) : "");
        for (const auto& [address, count] : sharing) {
            if (count <= limit) continue;
            log.write(log_level::warn,
                      std::to_string(count) + " devices share the address " + address + " and --host-port " + ports +
                          " has " + std::to_string(limit) + (limit == 1 ? " port" : " ports") + " for them: they run " +
                          std::to_string(limit) + " at a time (a session's listener tells devices apart by address; "
                          "a wider range runs more at once)");
        }
    }

    void pump() {
        bool progressed = true;
        while (progressed && !stopping_ && running_ < policy_.jobs) {
            progressed = false;
            for (std::size_t k = 0; k < queue_.size(); ++k) {
                device_run& d = devices_[queue_[k]];
                auto listener = pool_.acquire(d.bind, d.address);
                if (listener && !*listener) continue;  // every listener it may use serves its address now
                queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(k));
                if (!listener) {
                    attempt_ended(d, nullptr, listener.error());
                } else {
                    d.listener = *listener;
                    start(d);
                }
                progressed = true;
                break;
            }
        }
    }

    void start(device_run& d) {
        if (!d.started) {
            d.started = true;
            d.outcome.start_ms = now_ms();
        }
        if (!d.next_address) ++d.outcome.attempts;
        d.next_address = false;
        d.outcome.summary.clear();
        auto fail = [&](failure why) {
            pool_.release(d.listener, d.address);
            attempt_ended(d, nullptr, std::move(why));
        };
        auto entropy = random_bytes(32);
        if (!entropy) return fail(entropy.error());

        espota::session_config config;
        config.cmd = settings_.cmd;
        config.image_size = settings_.image.size();
        config.image_md5 = md5_hex_;
        config.host_port_pinned = settings_.host_ports.fixed.has_value();
        config.device_ports = d.dev.ports;
        config.times = settings_.times;
        config.window = settings_.window;
        config.entropy = std::move(*entropy);
        config.creds.password = d.dev.password.password;
        config.creds.stored_hash = d.dev.password.stored_hash;
        config.creds.md5_only = settings_.md5_only;
        config.creds.can_prompt = d.dev.password.source == password_source::none && policy_.may_prompt;

        net::password_provider ask = [this, &d]() -> std::optional<secret> {
            d.prompted = true;
            auto typed = prompt_secret("Password for " + bracketed(d.address) + " (input hidden): ");
            if (typed) return std::move(*typed);
            // Ctrl-C at the prompt ends the run as a signal anywhere else would.
            if (int signal_number = io::latched_interrupt()) on_signal(signal_number);
            return std::nullopt;
        };
        auto session = net::push_session::create(loop_, *d.listener, {d.address, d.local}, std::move(config),
                                                 settings_.image, *d.progress, *d.log, std::move(ask));
        if (!session) return fail(session.error());
        d.current = session->get();
        d.sessions.push_back(std::move(*session));
        ++running_;
        d.current->start([this, &d] {
            net::push_session* finished = d.current;
            d.current = nullptr;
            --running_;
            pool_.release(d.listener, d.address);
            attempt_ended(d, &finished->report(), std::nullopt);
            pump();
            finish_when_idle();
        });
    }

    // Whether the device may still answer at another address of its name: this one gave no sign
    // of it (nothing answered the invitation, or the address could not even be tried).
    bool try_next_address(const device_run& d, const espota::session_report* report, const failure& error) const {
        if (stopping_ || d.address_index + 1 >= d.addresses.size()) return false;
        if (!report) return true;
        return condition_of(error.code) == condition::unreachable && !report->device_port;
    }

    // One attempt is over: the device is done, or it goes again after the retry delay.
    void attempt_ended(device_run& d, const espota::session_report* report, std::optional<failure> local_error) {
        if (report) describe(d, *report);
        std::optional<failure> error = report ? report->error : local_error;
        if (!error) return end(d, device_status::updated, std::nullopt);
        if (try_next_address(d, report, *error)) {
            d.log->write(log_level::info, "no answer at " + bracketed(d.address) + " (" + std::string{code_name(error->code)} +
                                              "); trying " + d.dev.target.host + " at " +
                                              bracketed(d.addresses[d.address_index + 1]));
            ++d.address_index;
            d.next_address = true;
            if (auto placed = place(d); !placed) return attempt_ended(d, nullptr, placed.error());
            queue_.push_front(index_of(d));
            return;
        }
        if (d.addresses.size() > 1 && (!report || !report->device_port)) {
            std::string tried;
            for (const auto& a : d.addresses) tried += (tried.empty() ? "" : ", ") + a;
            error->message = "no address of " + d.dev.target.host + " answered (tried " + tried + "); at the last: " +
                             error->message;
        }
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
                d.address_index = 0;  // a new attempt goes through the addresses from the first
                if (auto placed = place(d); !placed) {
                    ++d.outcome.attempts;  // it counts, though it never starts
                    attempt_ended(d, nullptr, placed.error());
                } else {
                    queue_.push_back(index_of(d));
                }
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
        const bool unconfirmed = espota::outcome_unknown(r);

        j["address"] = d.address;
        j["addresses"] = d.addresses;
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

        std::string where = r.device_port ? endpoint_text(d.address, *r.device_port) : bracketed(d.address);
        if (d.addresses.size() > 1)
            where += " (address " + std::to_string(d.address_index + 1) + " of " + std::to_string(d.addresses.size()) +
                     " of " + d.dev.target.host + ")";
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
        if (!out_.interrupted) out_.interrupted = run_interrupted(number);
        stop(*out_.interrupted, number);
    }

    // What the signal did to the run as a whole, counting the devices by how far they got.
    failure run_interrupted(int number) const {
        unsigned reset = 0, unknown = 0, waiting = 0;
        for (const auto& d : devices_) {
            if (d.done) continue;
            if (!d.current) ++waiting;
            else if (d.current->report().upload_finished) ++unknown;
            else if (d.current->report().upload_started) ++reset;
        }
        auto devices = [](unsigned n) { return std::to_string(n) + (n == 1 ? " device" : " devices"); };
        std::string then;
        if (reset > 0) then += "; " + devices(reset) + " in transfer were reset and keep their current firmware";
        if (unknown > 0)
            then += "; " + devices(unknown) + " had every byte and are unconfirmed: they may have applied the update";
        if (waiting > 0) then += "; " + devices(waiting) + " not yet started were skipped";
        return io::interrupted_failure(number, then,
                                       unknown > 0 ? "check the unconfirmed devices (version, serial log) before "
                                                     "pushing again"
                                                   : "push again when ready");
    }

    void finish_when_idle() {
        if (closed_ || running_ > 0 || !queue_.empty()) return;
        for (auto& d : devices_)
            if (d.retry_timer) return;
        closed_ = true;
        loop_.stop_signals();
        pool_.close();
    }

    app_context& ctx_;
    const push_settings& settings_;
    const run_policy& policy_;
    const std::function<void(const device_outcome&)>& on_finished_;
    const std::string md5_hex_;
    const steady::time_point started_ = steady::now();
    net::event_loop loop_;
    std::string wildcard_;  // what --host-ip 0.0.0.0 or :: binds: "::" when any device has an IPv6 address
    net::connect_back_pool pool_{loop_, settings_.host_ports, cli_log()};
    std::vector<device_run> devices_;
    std::deque<std::size_t> queue_;
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
                                "address need distinct ports");
        }
    }
    return {};
}

run_outcome run_pushes(app_context& ctx, const push_settings& settings, std::vector<push_device> devices,
                       const run_policy& policy, const std::function<void(const device_outcome&)>& on_finished) {
    runner r{ctx, settings, std::move(devices), policy, on_finished};
    return r.run();
}

json image_json(const push_settings& settings) {
    json image = {{"path", settings.image_path},
                  {"size", settings.image.size()},
                  {"md5", to_hex(md5(settings.image))},
                  {"sha256", to_hex(sha256(settings.image))},
                  {"command", settings.cmd == espota::command::filesystem ? "filesystem" : "flash"}};
    image.update(settings.image_facts);
    return image;
}

push_outcome run_push(app_context& ctx, const push_settings& settings, push_device device, run_policy policy) {
    policy.jobs = 1;
    const std::string target_text = device.target_text;
    std::vector<push_device> one;
    one.push_back(std::move(device));
    run_outcome run = run_pushes(ctx, settings, std::move(one), policy, {});
    push_outcome out;
    json image = image_json(settings);
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
