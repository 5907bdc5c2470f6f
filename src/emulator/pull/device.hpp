#pragma once
// One emulated pulling device: asks as its client library does (checks.hpp), downloads, judges
// the image as the device would, and reports. A download cut on purpose (drop_after) is resumed
// with Range/If-Range by the clients that can (esp32fota, raw: custom and modem code), and started
// over by the Arduino clients, which never send Range.

#include "emulator/pull/checks.hpp"
#include "emulator/pull/client.hpp"
#include "emulator/pull/events.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace otaflash::net {
class event_loop;
}

namespace otaflash::emulator::pull {

struct device_settings {
    device_profile profile;
    // ESP8266httpUpdate/HTTPUpdate: the firmware URL; esp32fota: the manifest URL; raw: the base
    // URL below which /version and /firmware.bin are.
    std::string url;
    std::optional<std::uint64_t> drop_after;  // cut the first download after this many bytes
    int attempts = 3;                         // downloads (cut ones included) before giving up
    std::string out;                          // write the accepted image here
    bool version_query = false;               // ESP8266httpUpdate's version check (mode version): no download
    device_credentials credentials;           // sent with every request
};

// Starts the device on `loop`; its events come through `sink`, the last one a result_event
// (`sink` and `client` must outlive the run).
void start_device(net::event_loop& loop, const client_settings& client, device_settings settings, event_sink& sink);

}  // namespace otaflash::emulator::pull
