#pragma once
// `serve --mqtt`: the MQTT OTA engine (net::mqtt_ota_server) as a serve backend. Releases come
// from the serve catalog by title (devices name theirs); a device is known by its MQTT client id,
// and its state report is its last word: 100 delivered, 6 (version match) already current, the
// other codes 1-7 failed with the seed's meaning. A check-in is reported as started and its state
// report ends the exchange (an exchange still open when serve stops ends as failed there).
// start() returns only once the broker accepted the login and the subscriptions (or failed: the
// connect deadline passed, or the broker refused the credentials).

#include <otaflash/log.hpp>
#include <otaflash/net/mqtt_ota_server.hpp>
#include <otaflash/serve/backend.hpp>

#include <memory>
#include <string>
#include <vector>

namespace otaflash::server {

struct mqtt_backend_options {
    net::mqtt_ota_server_options server;
    std::vector<std::string> trigger;  // devices sent the trigger once subscribed (--trigger)
};

std::unique_ptr<serve::backend> make_mqtt_backend(mqtt_backend_options options, log_sink& log);

}  // namespace otaflash::server
