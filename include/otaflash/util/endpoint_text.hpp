#pragma once
// How an address and port are written for people and in messages: IPv6 literals in brackets.

#include <cstdint>
#include <string>
#include <string_view>

namespace otaflash {

inline std::string bracketed(std::string_view address) {
    if (address.find(':') == std::string_view::npos) return std::string{address};
    return "[" + std::string{address} + "]";
}

inline std::string endpoint_text(std::string_view address, std::uint16_t port) {
    return bracketed(address) + ":" + std::to_string(port);
}

}  // namespace otaflash
