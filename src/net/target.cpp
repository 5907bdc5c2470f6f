#include <otaflash/net/target.hpp>

#include <arpa/inet.h>

#include <charconv>

namespace otaflash::net {
namespace {

failure bad_target(std::string_view text, std::string why) {
    return make_failure(errc::target_invalid, "invalid target '" + std::string{text} + "': " + why,
                        "give HOST, HOST:PORT, [IPv6]:PORT or an IPv6 literal, e.g. 192.168.1.50, esp.local:8266, "
                        "[fe80::1%wlan0]:3232");
}

// "fe80::1%wlan0" without its zone; "127.0.0.1:8266:1" is not one (a port too many, not an address).
bool ipv6_literal(const std::string& host) {
    in6_addr address{};
    return ::inet_pton(AF_INET6, host.substr(0, host.find('%')).c_str(), &address) == 1;
}

}  // namespace

result<std::uint16_t> parse_port(std::string_view text, std::string_view what) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value == 0 || value > 65535)
        return make_failure(errc::usage_error, std::string{what} + " '" + std::string{text} + "' is not a port number",
                            "use a number from 1 to 65535");
    return static_cast<std::uint16_t>(value);
}

result<target> parse_target(std::string_view text) {
    if (text.empty()) return bad_target(text, "it is empty");
    target t;
    std::string_view port_text;
    bool has_port = false;
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return bad_target(text, "'[' without ']'");
        t.host = std::string{text.substr(1, close - 1)};
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return bad_target(text, "expected ':PORT' after ']'");
            port_text = rest.substr(1);
            has_port = true;
        }
        if (t.host.find(':') == std::string::npos) return bad_target(text, "brackets are only for IPv6 literals");
    } else {
        const auto first = text.find(':');
        if (first != std::string_view::npos && text.find(':', first + 1) == std::string_view::npos) {
            t.host = std::string{text.substr(0, first)};
            port_text = text.substr(first + 1);
            has_port = true;
        } else {
            t.host = std::string{text};  // no colon, or an IPv6 literal without a port
            if (first != std::string_view::npos && !ipv6_literal(t.host))
                return bad_target(text, "more than one ':' outside brackets, and it is not an IPv6 address");
        }
    }
    if (t.host.empty()) return bad_target(text, "no host");
    if (has_port) {
        auto port = parse_port(port_text, "port");
        if (!port) return bad_target(text, "the port must be a number from 1 to 65535");
        t.port = *port;
    }
    return t;
}

}  // namespace otaflash::net
