#include <otaflash/net/mqtt_ota_server.hpp>

#include "net/loop_detail.hpp"

#include <otaflash/net/event_loop.hpp>
#include <otaflash/proto/mqtt_ota/broker_url.hpp>

#include <optional>
#include <set>
#include <vector>

namespace otaflash::net {

namespace mq = proto::mqtt_ota;

struct mqtt_ota_server::impl {
    impl(event_loop& l, mqtt_ota_server_options o, const mq::release_lookup& releases, mqtt_ota_observer& obs, log_sink& lg)
        : loop(l), options(std::move(o)), responder(*options.profile, releases, options.chunks), observer(obs), log(lg) {}

    event_loop& loop;
    mqtt_ota_server_options options;
    mq::responder responder;
    mqtt_ota_observer& observer;
    log_sink& log;
    std::unique_ptr<mqtt_client> client;
    std::set<int> pending_subscriptions;
    std::vector<mq::mqtt_publish> queued;  // triggers asked for before the first connection
    bool ever_ready = false;
    bool failed = false;
    std::optional<failure> fatal_failure;
    std::string last_failure;
    event_loop::timer_id deadline = 0;  // the broker must take us (back) by then: at start, after a loss
    std::uint64_t messages = 0;
    std::uint64_t publishes = 0;

    void send(const mq::mqtt_publish& p) {
        if (client->publish(p.topic, p.payload, p.qos, p.retain)) ++publishes;
    }

    void fatal(failure f) {
        if (failed) return;
        failed = true;
        if (ever_ready && f.code == errc::broker_refused)
            f.message += " (on reconnecting: it had accepted the login before)";
        fatal_failure = f;
        if (deadline) loop.cancel_timer(deadline);
        deadline = 0;
        client->stop();
        observer.on_fatal(f);
    }

    // Started at start() and again when a broker that had taken us is lost; ready() cancels it.
    void await_broker() {
        if (deadline) return;
        const auto lost_at = std::chrono::steady_clock::now();
        deadline = loop.call_after(options.connect_deadline, [this, lost_at] {
            deadline = 0;
            const auto broker = mq::to_string(options.client.broker);
            const std::string why = last_failure.empty() ? std::string() : " (" + last_failure + ")";
            if (!ever_ready)
                return fatal(make_failure(errc::broker_unreachable,
                                          "no MQTT broker answered at " + broker + " within " +
                                              std::to_string(options.connect_deadline.count()) + " ms" + why,
                                          "start the broker or check --mqtt's host and port (and that mqtts:// "
                                          "matches a TLS listener); --mqtt-connect-timeout waits longer"));
            const auto out = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - lost_at);
            fatal(make_failure(errc::broker_unreachable,
                               "lost the MQTT broker at " + broker + " and it has not taken serve back within " +
                                   std::to_string(out.count()) + " ms" + why + "; devices cannot be served",
                               "bring the broker back and start serve again (a supervisor can restart it on exit 5); "
                               "--mqtt-connect-timeout waits longer through a broker restart"));
        });
    }

    void on_connected() {
        pending_subscriptions.clear();
        for (const auto& filter : responder.subscriptions(options.share_group)) {
            const int id = client->subscribe(filter, 1);
            if (id >= 0) pending_subscriptions.insert(id);
        }
        if (pending_subscriptions.empty()) ready();
    }

    void on_subscribed(int id) {
        if (pending_subscriptions.erase(id) && pending_subscriptions.empty()) ready();
    }

    void ready() {
        const bool again = ever_ready;
        ever_ready = true;
        if (deadline) loop.cancel_timer(deadline);
        deadline = 0;
        for (const auto& p : queued) send(p);
        queued.clear();
        observer.on_ready(again);
    }

    void on_message(std::string_view topic, byte_view payload) {
        ++messages;
        auto out = responder.on_message(topic, payload);
        for (const auto& p : out.publishes) send(p);
        for (const auto& e : out.events) observer.on_device(e);
    }
};

mqtt_ota_server::mqtt_ota_server(event_loop& loop, mqtt_ota_server_options options, const mq::release_lookup& releases,
                                 mqtt_ota_observer& observer, log_sink& log)
    : impl_(std::make_unique<impl>(loop, std::move(options), releases, observer, log)) {}

mqtt_ota_server::~mqtt_ota_server() {
    if (impl_->deadline) impl_->loop.cancel_timer(impl_->deadline);
}

result<void> mqtt_ota_server::start() {
    impl& s = *impl_;
    mqtt_client_events events;
    events.connected = [&s] { s.on_connected(); };
    events.refused = [&s](const failure& f) { s.fatal(f); };
    events.lost = [&s](std::string_view why) {
        s.last_failure = why;
        if (!s.ever_ready) return;
        s.await_broker();
        s.observer.on_connection_lost(why);
    };
    events.message = [&s](std::string_view topic, byte_view payload) { s.on_message(topic, payload); };
    events.subscribed = [&s](int id) { s.on_subscribed(id); };
    s.client = std::make_unique<mqtt_client>(s.loop, s.options.client, std::move(events), s.log);
    s.await_broker();
    return s.client->start();
}

result<void> mqtt_ota_server::start_and_wait() {
    impl& s = *impl_;
    if (auto started = start(); !started) return started;
    // The connect deadline is a pending timer, so the loop always has work until one of the two.
    auto& io = s.loop.native().io;
    while (!s.ever_ready && !s.failed) {
        if (io.stopped()) io.restart();
        io.run_one();
    }
    if (s.failed) return *s.fatal_failure;
    return {};
}

void mqtt_ota_server::stop() {
    impl& s = *impl_;
    if (s.deadline) s.loop.cancel_timer(s.deadline);
    s.deadline = 0;
    if (s.client) s.client->stop();
}

bool mqtt_ota_server::trigger(std::string_view device) {
    impl& s = *impl_;
    auto p = s.responder.trigger(device);
    if (!p) return false;
    if (s.ever_ready && s.client->connected()) s.send(*p);
    else s.queued.push_back(std::move(*p));
    return true;
}

std::vector<std::string> mqtt_ota_server::subscriptions() const {
    return impl_->responder.subscriptions(impl_->options.share_group);
}

std::uint64_t mqtt_ota_server::messages() const noexcept { return impl_->messages; }
std::uint64_t mqtt_ota_server::publishes() const noexcept { return impl_->publishes; }

}  // namespace otaflash::net
