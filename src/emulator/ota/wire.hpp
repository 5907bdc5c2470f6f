#pragma once
// The invitation and AUTH datagrams read exactly the way the device firmware reads them
// (../shared/protocols/espota.md §2, §4): parseInt() skips spaces and reads digits, one byte is
// taken as the separator, strings end at LF, NUL or the end of the datagram. Anything the device
// would drop without an answer comes back as `ignored` with the reason for the log.

#include "emulator/ota/kind.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace otaflash::emulator::ota {

inline constexpr int command_flash = 0;       // U_FLASH
inline constexpr int command_filesystem = 100;  // U_FS / U_SPIFFS
inline constexpr int command_auth = 200;      // U_AUTH

struct invitation {
    int command = command_flash;
    std::uint16_t host_port = 0;  // stored in a uint16_t field: larger numbers wrap
    std::int32_t size = 0;        // atoi(): saturates at INT32_MAX on the device's 32-bit long
    std::string md5;              // trimmed, exactly 32 characters, not checked for hex
};

struct auth_request {
    std::string cnonce;
    std::string response;
};

struct ignored {
    std::string reason;
};

std::variant<invitation, ignored> parse_invitation(std::string_view datagram, const kind_traits& kind);
// Lengths are checked against the kind's scheme: 32/32 (MD5) or 64/64 (PBKDF2).
std::variant<auth_request, ignored> parse_auth(std::string_view datagram, const kind_traits& kind);

}  // namespace otaflash::emulator::ota
