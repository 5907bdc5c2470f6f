#include <otaflash/proto/mqtt_ota/broker_url.hpp>

#include <otaflash/util/endpoint_text.hpp>

#include <charconv>

namespace otaflash::proto::mqtt_ota {
namespace {

failure bad(std::string_view url, std::string why) {
    return make_failure(errc::usage_error, "--mqtt '" + std::string(url) + "': " + why,
                        "write mqtt://[user@]host[:port] or mqtts://[user@]host[:port]");
}

}  // namespace

result<broker_url> parse_broker_url(std::string_view url) {
    broker_url out;
    std::string_view rest;
    if (url.starts_with("mqtt://")) {
        rest = url.substr(7);
    } else if (url.starts_with("mqtts://")) {
        rest = url.substr(8);
        out.tls = true;
        out.port = 8883;
    } else {
        return bad(url, "the scheme must be mqtt:// or mqtts://");
    }
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos) return bad(url, "a broker URL has no path");
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view user = rest.substr(0, at);
        if (user.find(':') != std::string_view::npos)
            return make_failure(errc::usage_error, "--mqtt: a password in the URL would show in the process list",
                                "give only the user in the URL; the password in OTAFLASH_MQTT_PASSWORD or --mqtt-password-file");
        if (user.empty()) return bad(url, "the user before '@' is empty");
        out.username = user;
        rest = rest.substr(at + 1);
    }
    std::string_view port_text;
    if (rest.starts_with("[")) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return bad(url, "an IPv6 address needs its closing ']'");
        out.host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return bad(url, "only ':port' may follow ']'");
            port_text = rest.substr(1);
            if (port_text.empty()) return bad(url, "the port after ':' is empty");
        }
    } else {
        const auto colon = rest.rfind(':');
        out.host = rest.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = rest.substr(colon + 1);
            if (port_text.empty()) return bad(url, "the port after ':' is empty");
        }
    }
    if (out.host.empty()) return bad(url, "the host is missing");
    if (!port_text.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
            return bad(url, "the port must be a number from 1 to 65535");
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

std::string to_string(const broker_url& url) {
    return std::string(url.tls ? "mqtts://" : "mqtt://") + endpoint_text(url.host, url.port);
}

}  // namespace otaflash::proto::mqtt_ota
