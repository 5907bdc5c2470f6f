#pragma once
// One emulated pulling device: asks as its client library does (checks.hpp), downloads, judges
// the image as the device would, and reports. A download cut on purpose (drop_after) is resumed
// with Range/If-Range by the clients that can (esp32fota, raw: custom and modem code), and started
// over by the Arduino clients, which never send Range.

#include "emulator/pull/checks.hpp"
#include "emulator/pull/client.hpp"

#include <chrono>
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
};

struct request_event {
    std::string device;
    std::string method, url;
    unsigned status = 0;
    std::string range;      // the Range header sent, if any
    std::uint64_t bytes = 0;
    bool cut = false;
};

struct result_event {
    std::string device;
    std::string outcome;    // updated, no_update, error
    std::string detail;     // the library's words
    std::string offered;    // the version offered, when known
    std::uint64_t bytes = 0;
    std::string md5;        // of the accepted image
    unsigned requests = 0;
    unsigned resumed = 0;   // Range requests that continued a cut download
    std::string file;
    std::uint64_t ms = 0;
};

class event_sink {
public:
    virtual ~event_sink() = default;
    virtual void on_request(const request_event&) {}
    virtual void on_result(const result_event&) {}
};

// Starts the device on `loop`; the result comes through `sink` (which must outlive the run).
void start_device(net::event_loop& loop, const tls_settings& tls, device_settings settings, event_sink& sink);

}  // namespace otaflash::emulator::pull
