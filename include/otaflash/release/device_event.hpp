#pragma once
// The one vocabulary in which every serving transport (HTTP, HTTPS, MQTT) reports what a device
// did; the CLI renders it (a human line each, JSON Lines under --json, the final table) and feeds
// the delivery tracker with it.

#include <otaflash/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::release {

// An exchange (an HTTP request; an MQTT check-in with the chunks and the state report after it) ends
// in exactly one of the final kinds: asked, delivered, already_current, refused, failed. progress
// and started come before that end and are not requests of their own.
enum class event_kind : std::uint8_t {
    asked,            // a device asked and was answered in full (a version or manifest request)
    started,          // an exchange began whose end a later event reports (an MQTT check-in)
    progress,         // bytes of a transfer went out
    delivered,        // the whole image went out (HTTP: the last byte was written)
    already_current,  // the device runs the offered image or a version not older (304)
    refused,          // the server declined (403/404, allow-list, pin, roll-out hold-back …)
    failed,           // the transfer broke or was cut short (incomplete: never delivered)
};
std::string_view kind_name(event_kind kind) noexcept;
constexpr bool ends_exchange(event_kind kind) noexcept {
    return kind != event_kind::progress && kind != event_kind::started;
}

struct device_event {
    std::string device;      // device_key(): normalized MAC or the transport's id; "" unknown
    std::string transport;   // "http", "https", "mqtt"
    event_kind kind = event_kind::asked;
    std::string peer;        // remote address:port, or broker client id
    std::string request;     // "GET /firmware.bin", the MQTT topic …
    std::string chip;        // what the device says it is ("esp8266", "esp32"), "" unknown
    std::string version;     // what the device says it runs, "" unknown
    std::string offered;     // the release version decided on, "" none
    std::string decision;    // one line: "200 firmware", "304 sketch MD5 equal", "403 …"
    std::optional<errc> code;  // refused / failed
    std::uint64_t bytes = 0;   // body bytes sent so far / in total
    std::uint64_t total = 0;   // body bytes the transfer is meant to send
    std::uint64_t ms = 0;      // since the request arrived
};

}  // namespace otaflash::release
