#pragma once
// What an emulated pulling device reports, in the order it happens: one event per HTTP request,
// then one result. The executable prints these as JSON Lines (README "Emulated pulling device");
// tests may take them in-process.

#include <otaflash/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace otaflash::emulator::pull {

// One HTTP exchange, once it ended (answered, cut on purpose, or failed).
struct request_event {
    std::string device;     // the STA MAC
    std::string method = "GET";
    std::string url;
    unsigned status = 0;    // 0: no answer
    std::string range;      // the Range header sent ("" when none)
    std::uint64_t bytes = 0;  // body bytes received
    bool cut = false;       // dropped on purpose (--drop-after)
};

// The end of the device's run.
struct result_event {
    std::string device;
    std::string outcome;    // updated, no_update, error
    std::optional<errc> code;  // errors only: what kind (exit status)
    std::string detail;     // the client library's words
    std::string reason;     // a refusing server's body (403: why), trimmed
    std::string offered;    // the version offered, when known
    std::uint64_t bytes = 0;
    std::string md5;        // of the accepted image
    unsigned requests = 0;
    unsigned resumed = 0;   // Range requests that continued a cut download
    std::string file;       // where the accepted image was written
    std::uint64_t ms = 0;
};

using device_event = std::variant<request_event, result_event>;

class event_sink {
public:
    virtual ~event_sink() = default;
    virtual void on_event(const device_event& event) = 0;
};

}  // namespace otaflash::emulator::pull
