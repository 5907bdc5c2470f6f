#pragma once
// Where the broker is: `mqtt://[user@]host[:port]` (1883) or `mqtts://...` (TLS, 8883).

#include <otaflash/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace otaflash::proto::mqtt_ota {

struct broker_url {
    bool tls = false;
    std::string username;  // empty: none in the URL
    std::string host;      // without brackets for IPv6 literals
    std::uint16_t port = 1883;
};

// Fails with errc::usage_error, saying what is wrong; a password in the URL is refused (it would
// show in the process list: use OTAFLASH_MQTT_PASSWORD or --mqtt-password-file).
result<broker_url> parse_broker_url(std::string_view url);
std::string to_string(const broker_url& url);  // without the user: for messages and logs

}  // namespace otaflash::proto::mqtt_ota
