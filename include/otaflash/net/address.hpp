#pragma once
// Names to addresses, and which of our addresses a device will see.

#include <otaflash/result.hpp>

#include <string>
#include <vector>

namespace otaflash::net {

// Numeric addresses for a name or literal, IPv4 first (ArduinoOTA devices are mostly IPv4).
result<std::vector<std::string>> resolve_host(const std::string& host);

// The local address the kernel uses to reach `device`: the source of our datagrams, which is the
// address the device dials back.
result<std::string> local_address_towards(const std::string& device);

bool is_wildcard(const std::string& address);
bool is_ipv6(const std::string& address);

}  // namespace otaflash::net
