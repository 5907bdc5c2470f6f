#pragma once
// What the emulated device reports about itself: one event per fact, in the order they happen.
// The executable prints them as JSON Lines (README "Emulated OTA device"); tests and a future
// multi-device runner receive them through `event_sink`.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace otaflash::emulator::ota {

struct ready_event {
    std::string kind;
    std::string address;
    std::uint16_t port = 0;
    std::string hostname;  // without ".local"
    std::string board;
};

// An invitation the device accepted (well-formed, command 0 or 100).
struct invitation_event {
    std::string from;  // "127.0.0.1:40000" / "[::1]:40000"
    int command = 0;
    std::uint16_t host_port = 0;
    std::int32_t size = 0;
    std::string md5;
};

// A well-formed AUTH datagram was checked.
struct auth_event {
    bool ok = false;
    std::string scheme;  // "md5" or "pbkdf2-sha256"
};

// The end of an attempt that got past the invitation: exactly one per accepted invitation.
struct update_event {
    bool ok = false;
    int command = 0;
    std::int32_t size = 0;
    std::uint64_t received = 0;          // image bytes the device read
    std::optional<std::string> md5;      // MD5 of what the updater got (null when nothing arrived)
    std::optional<std::string> error;    // the text the device sent, or a description if it sent none
    std::optional<std::string> file;     // where the image was written (--out, success only)
    std::string stage;                   // auth, begin, connect, transfer, end
    std::string detail;                  // what happened, in words
};

using device_event = std::variant<ready_event, invitation_event, auth_event, update_event>;

class event_sink {
public:
    virtual ~event_sink() = default;
    virtual void on_event(const device_event& event) = 0;
};

}  // namespace otaflash::emulator::ota
