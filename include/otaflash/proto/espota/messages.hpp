#pragma once
// The espota datagrams (../shared/protocols/espota.md §2–§4): building the host's invitation and
// AUTH lines, and classifying what a device answers.

#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace otaflash::espota {

enum class command : std::uint16_t {
    flash = 0,         // application image
    filesystem = 100,  // SPIFFS / LittleFS image (U_FS, U_SPIFFS)
};
inline constexpr std::uint16_t auth_command = 200;

// "<command> <host_port> <size> <md5>\n": single spaces, lowercase MD5, one LF (the device drops
// anything else without a word).
std::string invitation(command cmd, std::uint16_t host_port, std::uint64_t size, std::string_view md5_hex);

// "200 <cnonce> <response>\n".
std::string auth_request(std::string_view cnonce, std::string_view response);

enum class reply_kind {
    ok,           // "OK": accepted (esp8266/rp2040: after the space check passed)
    auth,         // "AUTH <nonce>": a password is needed
    error,        // "ERR: <text>": Update.begin() refused (esp8266, rp2040)
    auth_failed,  // "Authentication Failed"
    other,        // anything else: not an espota device, or a newer dialect
};

struct reply {
    reply_kind kind = reply_kind::other;
    std::string nonce;  // auth: the challenge exactly as sent
    std::string text;   // error: the device's words after "ERR: "; other: the whole datagram
};

reply classify_reply(byte_view datagram);

// The device's words made safe to show on one line: control bytes escaped, trailing
// whitespace dropped, at most `limit` characters.
std::string printable(std::string_view text, std::size_t limit = 200);

}  // namespace otaflash::espota
