#include "server/mqtt/mqtt_backend.hpp"

#include <otaflash/net/event_loop.hpp>
#include <otaflash/proto/mqtt_ota/broker_url.hpp>
#include <otaflash/release/release.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace otaflash::server {
namespace {

namespace mq = proto::mqtt_ota;
using release::device_event;
using release::event_kind;

// The catalog as the responder asks it: the newest release of a title in the default channel.
class catalog_releases final : public mq::release_lookup {
public:
    explicit catalog_releases(const release::catalog& c) : catalog_(c) {}

    std::optional<mq::release_view> find(std::string_view title) const override {
        const auto* r = catalog_.find_by_title(title);
        if (!r) return std::nullopt;
        return mq::release_view{r->title, r->version, r->app.view(), r->app.crc32};
    }
    std::optional<mq::release_view> only() const override {
        std::set<std::string_view> titles;
        for (const auto& r : catalog_.releases())
            if (r.in_channel({})) titles.insert(r.title);
        if (titles.size() != 1) return std::nullopt;
        return find(*titles.begin());
    }

private:
    const release::catalog& catalog_;
};

// The device's own words on why it failed, as errc for the JSON `code`.
errc code_for(int reported) {
    switch (reported) {
    case 4: return errc::connection_lost;
    case 7: return errc::device_verify_failed;
    default: return errc::device_refused;
    }
}

class mqtt_backend final : public serve::backend, public net::mqtt_ota_observer {
public:
    mqtt_backend(mqtt_backend_options options, log_sink& log) : options_(std::move(options)), log_(log) {}

    result<std::vector<std::string>> start(net::event_loop& loop, const release::catalog& catalog,
                                           serve::event_sink sink, serve::failure_sink failed) override {
        loop_ = &loop;
        sink_ = std::move(sink);
        failed_ = std::move(failed);
        releases_ = std::make_unique<catalog_releases>(catalog);
        const auto& profile = *options_.server.profile;
        if (!profile.names_devices)
            log_.write(log_level::warn,
                       "MQTT profile '" + std::string(profile.name) +
                           "': its topics name every device 'me', so they cannot tell devices apart on a shared "
                           "broker; let one device at a time update through it (or use --mqtt-profile ota)");
        server_ = std::make_unique<net::mqtt_ota_server>(loop, options_.server, *releases_, *this, log_);
        for (const auto& device : options_.trigger)
            if (!server_->trigger(device))
                return make_failure(errc::usage_error,
                                    "--trigger with --mqtt-profile " + std::string(profile.name) +
                                        " needs exactly one release title to announce",
                                    "serve one title, or leave out --trigger");
        if (auto ready = server_->start_and_wait(); !ready) return std::move(ready).error();
        serving_ = true;
        return std::vector<std::string>{mq::to_string(options_.server.client.broker)};
    }

    void stop(std::chrono::milliseconds, std::function<void()> done) override {
        // Chunk answers are single messages: nothing is in flight to wait for. An exchange still
        // open ends here, so that every check-in ends in one final event.
        if (server_) server_->stop();
        for (const auto& [device, x] : open_) {
            auto e = base(device, event_kind::failed);
            e.request = "state";
            e.offered = x.offered;
            e.bytes = x.served;
            e.total = x.size;
            const bool all_sent = x.size > 0 && x.served >= x.size;
            e.code = all_sent ? errc::result_unconfirmed : errc::connection_lost;
            e.decision = "no state report before serve stopped (" + std::to_string(x.served) + " of " +
                         std::to_string(x.size) + " bytes served)";
            sink_(e);
        }
        open_.clear();
        loop_->call_after(std::chrono::milliseconds(0), std::move(done));
    }

    void on_ready(bool again) override {
        if (again) log_.write(log_level::warn, "connected to the MQTT broker again and subscribed");
        up_ = true;
    }
    void on_connection_lost(std::string_view why) override {
        // Said once per outage; every failed retry after it is the mqtt client's debug line.
        if (!up_) return;
        up_ = false;
        log_.write(log_level::warn, "lost the MQTT broker (" + std::string(why) + "); reconnecting with backoff");
    }
    void on_fatal(const failure& f) override {
        // Before start() returned this is its result; later (a reconnect refused or not made in
        // time) serving has ended, and so does the run.
        if (serving_) failed_(f);
    }

    void on_device(const mq::responder_event& event) override {
        std::visit([this](const auto& e) { report(e); }, event);
    }

private:
    device_event base(const std::string& device, event_kind kind) {
        device_event e;
        e.device = release::device_key(device);
        e.transport = "mqtt";
        e.kind = kind;
        e.peer = device;
        if (auto at = open_.find(device); at != open_.end())
            e.ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  std::chrono::steady_clock::now() - at->second.since)
                                                  .count());
        return e;
    }

    // A check-in opens the device's exchange; its state report (or stop()) ends it. Asking again
    // before that starts it over: a device that lost an answer asks again.
    void report(const mq::info_asked& a) {
        auto& x = open_[a.device];
        x = exchange{};
        auto e = base(a.device, event_kind::started);
        e.request = "info " + (a.title.empty() ? std::string("(any title)") : a.title);
        e.version = a.version;
        if (a.offered) {
            e.offered = x.offered = a.offered->version;
            e.total = x.size = a.offered->size;
            e.decision = "offered " + a.offered->title + " " + a.offered->version;
        } else {
            e.decision = "no release titled '" + a.title + "'";
        }
        sink_(e);
    }

    void report(const mq::chunk_served& c) {
        if (auto at = open_.find(c.device); at != open_.end())
            at->second.served = std::max(at->second.served, c.offset + c.bytes);
        if (!c.percent) return;
        auto e = base(c.device, event_kind::progress);
        e.request = "chunk " + std::to_string(c.index);
        e.bytes = c.offset + c.bytes;
        e.total = c.total;
        sink_(e);
    }

    void report(const mq::state_reported& s) {
        if (!s.report.final()) return;
        const bool ok = s.report.success();
        // "Version match": the device runs the offered release already.
        const bool current = s.report.code == mq::code_version_match;
        auto e = base(s.device, ok ? event_kind::delivered : current ? event_kind::already_current : event_kind::failed);
        e.request = "state";
        e.offered = s.report.version;
        const int code = s.report.code.value_or(0);
        std::string meaning(mq::code_meaning(code));
        e.decision = "reported " + (s.report.code ? std::to_string(code) : s.report.state) +
                     (meaning.empty() ? std::string() : " " + meaning) +
                     (s.report.message.empty() ? std::string() : ": " + s.report.message);
        if (auto at = open_.find(s.device); at != open_.end()) {
            e.total = at->second.size;
            e.bytes = ok ? at->second.size : at->second.served;
            open_.erase(at);
        }
        if (!ok && !current) e.code = code_for(code);
        sink_(e);
    }

    void report(const mq::request_refused& r) {
        auto e = base(r.device, event_kind::refused);
        e.request = r.topic;
        e.decision = r.reason + (r.answered ? " (error reply sent)" : " (ignored)");
        e.code = errc::protocol_violation;
        sink_(e);
    }

    mqtt_backend_options options_;
    log_sink& log_;
    net::event_loop* loop_ = nullptr;
    bool up_ = false;
    serve::event_sink sink_;
    serve::failure_sink failed_;
    bool serving_ = false;  // start() succeeded
    std::unique_ptr<catalog_releases> releases_;
    std::unique_ptr<net::mqtt_ota_server> server_;
    struct exchange {
        std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
        std::string offered;       // version
        std::uint64_t size = 0;    // of the offered image
        std::uint64_t served = 0;  // image bytes answered so far
    };
    std::map<std::string, exchange> open_;  // by client id
};

}  // namespace

std::unique_ptr<serve::backend> make_mqtt_backend(mqtt_backend_options options, log_sink& log) {
    return std::make_unique<mqtt_backend>(std::move(options), log);
}

}  // namespace otaflash::server
