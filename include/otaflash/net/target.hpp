#pragma once
// Where to push: "host", "host:port", "192.168.1.5:3232", "[fe80::1%eth0]:3232", "::1".
// Pure parsing; resolution is in net/address.hpp.

#include <otaflash/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::net {

struct target {
    std::string host;                    // a name, an IPv4 literal or an IPv6 literal (no brackets)
    std::optional<std::uint16_t> port;   // none: probe the known default ports
};

// An IPv6 literal may carry a port only inside brackets ("[::1]:3232"); bare "::1" is all address.
result<target> parse_target(std::string_view text);

// Parses a port number 1..65535 ("what" names it in the error: "--port", "--host-port").
result<std::uint16_t> parse_port(std::string_view text, std::string_view what);

// Consecutive ports, both ends included: "40000" (one) or "40000-40063".
struct port_range {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
    unsigned size() const noexcept { return static_cast<unsigned>(last - first) + 1; }
};
result<port_range> parse_port_range(std::string_view text, std::string_view what);

}  // namespace otaflash::net
