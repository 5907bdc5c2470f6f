#pragma once
// What an emulated MQTT OTA device reports about itself, in the order it happens. The executable
// prints these as JSON Lines (README "Emulated MQTT OTA device"); tests may take them in-process.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace otaflash::emulator::mqtt {

// Connected (again) and subscribed to its answer topics.
struct connected_event {
    std::string device;
    bool again = false;
};

// The connection broke; libmosquitto retries.
struct lost_event {
    std::string device;
    std::string why;
};

// The server answered the info request.
struct info_event {
    std::string device;
    int attempt = 1;
    bool found = false;  // false: no title in the answer
    std::string title;
    std::string version;
    std::uint64_t size = 0;
    std::string crc32;
    std::string framing;
};

// A chunk is asked again: its answer was corrupt, empty, short, or late.
struct retry_event {
    std::string device;
    std::uint64_t chunk = 0;
    int retry = 0;        // 1..3
    std::string reason;
};

// The device stopped on purpose (faults die-after, silent-after) or reconnects (reconnect-after).
struct fault_event {
    std::string device;
    std::string fault;
    std::uint64_t chunks = 0;
};

// The end of an update: the code the device reported on its state topic.
struct result_event {
    std::string device;
    int code = 0;
    std::string message;
    int attempts = 1;
    std::uint64_t bytes = 0;     // image bytes received and kept
    std::uint64_t chunks = 0;    // chunk answers accepted
    std::uint64_t retries = 0;   // chunk requests repeated
    std::optional<std::string> crc32;  // of what was received (success only)
    std::optional<std::string> file;   // where it was written (--out, success only)
    std::uint64_t ms = 0;
};

using device_event = std::variant<connected_event, lost_event, info_event, retry_event, fault_event, result_event>;

class event_sink {
public:
    virtual ~event_sink() = default;
    virtual void on_event(const device_event& event) = 0;
};

}  // namespace otaflash::emulator::mqtt
