#pragma once
// `otaflash serve --mqtt URL ...`: the MQTT options of serve and the backend they make.

#include <otaflash/result.hpp>
#include <otaflash/serve/backend.hpp>

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace otaflash::cli {

struct mqtt_cli_options {
    std::string url;
    std::string username;
    std::string password_file;
    std::string ca_file;
    std::string client_id;
    std::string profile = "ota";
    std::string framing = "crc32";
    std::string share_group;
    std::string connect_timeout = "10s";
    bool trigger = false;
};

void add_mqtt_options(CLI::App& serve, mqtt_cli_options& options);

// nullptr without --mqtt (then any other MQTT option is a usage error). `expect`: the expected
// devices, which --trigger starts.
result<std::unique_ptr<serve::backend>> make_mqtt_serve_backend(const mqtt_cli_options& options,
                                                                const std::vector<std::string>& expect);

// The default client id: "otaflash-<host>", stable across restarts (a restarted server takes over
// its own stale session) and unique per machine; "-<pid>" is added in a shared-subscription group,
// where several instances may run on one machine.
std::string default_mqtt_client_id(const std::string& share_group);

}  // namespace otaflash::cli
