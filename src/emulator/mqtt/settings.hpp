#pragma once
// One emulated device's configuration, and its faults.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/proto/mqtt_ota/broker_url.hpp>
#include <otaflash/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::emulator::mqtt {

struct device_faults {
    bool title_mismatch = false;              // compares the answer with another title: code 1
    bool same_version = false;                // claims the offered version already: code 6
    std::optional<std::uint64_t> corrupt;     // every answer for this chunk is damaged: code 7 in the end
    bool corrupt_once = false;                // the first answer for every chunk is damaged; retries succeed
    std::optional<std::uint64_t> die_after;   // after N chunks: disconnect and never come back
    std::optional<std::uint64_t> silent_after;  // after N chunks: stay connected, ask nothing more
    std::optional<std::uint64_t> reconnect_after;  // after N chunks: drop the connection, reconnect, go on
};

// "title-mismatch", "corrupt=12", ...: fails (usage_error) naming the unknown fault.
result<void> add_fault(device_faults& faults, const std::string& spec);

struct device_settings {
    std::string id = "node-%d";      // MQTT client id; %d: index in the fleet
    std::string title = "s31-nb";
    std::string version = "v1.5.0";
    std::size_t chunk_size = 1024;
    std::uint64_t link_rate = 0;     // bits per second of the device's link; 0 = unlimited
    int chunk_retries = 3;           // a chunk is asked up to 1 + 3 times
    int attempts = 3;                // whole updates
    std::chrono::milliseconds reply_timeout{5000};
    bool wait_trigger = false;       // start on F9 01 (or ThingsBoard attributes) instead of at once
    std::string profile = "ota";
    std::string out;                 // write the image here on success; %d: index
    device_faults faults;
};

struct broker_settings {
    proto::mqtt_ota::broker_url url;
    std::string username;
    secret password;
    std::string ca_file;
};

}  // namespace otaflash::emulator::mqtt
