#pragma once
// One MQTT client connection (libmosquitto) driven by the run's event_loop: no thread of its own.
// It reconnects with backoff after a lost connection and says so; the owner subscribes again in
// `connected` (a clean session forgets subscriptions). mosquitto.h and Asio stay in the .cpp.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/log.hpp>
#include <otaflash/proto/mqtt_ota/broker_url.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace otaflash::net {

class event_loop;

struct mqtt_client_options {
    proto::mqtt_ota::broker_url broker;
    std::string client_id;
    std::string username;  // overrides the URL's user when set
    secret password;
    std::string ca_file;   // mqtts: verify the broker against this CA (else the system's)
    std::chrono::seconds keepalive{30};
    std::chrono::milliseconds backoff_first{200};
    std::chrono::milliseconds backoff_max{5000};
};

struct mqtt_client_events {
    std::function<void()> connected;                           // CONNACK accepted (first time and after every reconnect)
    std::function<void(const failure&)> refused;               // CONNACK refused: no retry follows
    std::function<void(std::string_view why)> lost;            // connection lost or not made; a retry is scheduled
    std::function<void(std::string_view topic, byte_view payload)> message;
    std::function<void(int id)> subscribed;                    // SUBACK for subscribe()'s id
};

class mqtt_client {
public:
    mqtt_client(event_loop& loop, mqtt_client_options options, mqtt_client_events events, log_sink& log);
    ~mqtt_client();
    mqtt_client(const mqtt_client&) = delete;
    mqtt_client& operator=(const mqtt_client&) = delete;

    // Sets up TLS and credentials and begins connecting; fails at once on local errors (a CA file
    // libmosquitto cannot use, an invalid client id).
    result<void> start();
    // Ends the session (DISCONNECT) and stops reconnecting.
    void stop();
    bool connected() const noexcept;

    // The id that `subscribed` reports back; -1 when the request could not be sent.
    int subscribe(std::string_view filter, int qos);
    // Dropped (false) while disconnected: MQTT OTA requests are retried by the devices.
    bool publish(std::string_view topic, byte_view payload, int qos, bool retain = false);

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace otaflash::net
