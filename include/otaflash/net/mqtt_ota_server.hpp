#pragma once
// `serve --mqtt`'s engine: the pure responder (proto/mqtt_ota) on one broker connection. It
// subscribes to the profile's request and state topics (requests through `$share/<group>/` when
// several servers share the load), answers every request at once, and reports what devices do.
// The first connection must succeed within the connect deadline; later losses are retried with
// backoff and the subscriptions renewed, while devices re-ask what went unanswered. A broker that
// does not take the server back within the same deadline, or refuses its login, ends it (on_fatal).

#include <otaflash/net/mqtt_client.hpp>
#include <otaflash/proto/mqtt_ota/responder.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace otaflash::net {

class event_loop;

struct mqtt_ota_server_options {
    mqtt_client_options client;
    const proto::mqtt_ota::topic_profile* profile = &proto::mqtt_ota::ota_profile();
    proto::mqtt_ota::framing chunks = proto::mqtt_ota::framing::crc32;
    std::string share_group;  // empty: no shared subscription
    std::chrono::milliseconds connect_deadline{10000};
};

class mqtt_ota_observer {
public:
    virtual ~mqtt_ota_observer() = default;
    // Connected and subscribed; `again` after a reconnect.
    virtual void on_ready(bool /*again*/) {}
    virtual void on_connection_lost(std::string_view /*why*/) {}
    virtual void on_device(const proto::mqtt_ota::responder_event&) {}
    // The server cannot go on: the broker refused it, or did not answer (again) within the deadline.
    virtual void on_fatal(const failure&) {}
};

class mqtt_ota_server {
public:
    // `releases` and `observer` must outlive the server.
    mqtt_ota_server(event_loop& loop, mqtt_ota_server_options options, const proto::mqtt_ota::release_lookup& releases,
                    mqtt_ota_observer& observer, log_sink& log);
    ~mqtt_ota_server();

    // Begins connecting; the observer hears on_ready or on_fatal later, from the loop.
    result<void> start();
    // start(), then runs the loop until the server is subscribed (ok) or has failed: the broker
    // refused it or the connect deadline passed. For callers that must know before going on
    // (serve prints where it serves only once it does); call it before the loop runs.
    result<void> start_and_wait();
    void stop();

    // Sends the trigger to `device` now, or once connected. False when the profile has nothing to
    // send (ThingsBoard without a single release).
    bool trigger(std::string_view device);
    std::vector<std::string> subscriptions() const;

    // Messages answered and publishes sent, for benchmarks and summaries.
    std::uint64_t messages() const noexcept;
    std::uint64_t publishes() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace otaflash::net
