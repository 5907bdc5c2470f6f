#include "emulator/ota/wire.hpp"

#include <cstdint>
#include <limits>

namespace otaflash::emulator::ota {
namespace {

// The UDP stream API the firmware parses with: peek() and read() give -1 past the end.
class datagram_reader {
public:
    explicit datagram_reader(std::string_view data) : data_(data) {}

    int peek() const noexcept { return pos_ < data_.size() ? static_cast<unsigned char>(data_[pos_]) : -1; }
    int read() noexcept {
        const int c = peek();
        if (c >= 0) ++pos_;
        return c;
    }

    // ArduinoOTAClass::parseInt(): leading spaces, then digits into a 16-byte buffer; a buffer
    // filled with digits yields 0. atoi() of the digits, saturating as newlib's strtol does.
    std::int32_t parse_int(std::size_t digit_limit) noexcept {
        while (peek() == ' ') read();
        std::int64_t value = 0;
        for (std::size_t index = 0; index < digit_limit; ++index) {
            const int c = peek();
            if (c < '0' || c > '9') return static_cast<std::int32_t>(value);
            read();
            value = value * 10 + (c - '0');
            if (value > std::numeric_limits<std::int32_t>::max()) value = std::numeric_limits<std::int32_t>::max();
        }
        return 0;
    }

    // readStringUntil(): stops at `end` (consumed), a NUL byte (consumed) or the end of the datagram.
    std::string read_until(char end) {
        std::string out;
        for (;;) {
            const int c = read();
            if (c <= 0 || c == static_cast<unsigned char>(end)) return out;
            out.push_back(static_cast<char>(c));
        }
    }

private:
    std::string_view data_;
    std::size_t pos_ = 0;
};

bool arduino_isspace(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// String::trim()
std::string trim(std::string text) {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && arduino_isspace(text[begin])) ++begin;
    while (end > begin && arduino_isspace(text[end - 1])) --end;
    return text.substr(begin, end - begin);
}

std::size_t challenge_length(const kind_traits& kind) noexcept {
    return kind.scheme == espota::auth_scheme::md5_legacy ? 32 : 64;
}

}  // namespace

std::variant<invitation, ignored> parse_invitation(std::string_view datagram, const kind_traits& kind) {
    datagram_reader in(datagram);
    invitation inv;
    inv.command = in.parse_int(kind.int_digits_limit);
    if (inv.command != command_flash && inv.command != command_filesystem)
        return ignored{"command " + std::to_string(inv.command) + " is neither 0 (flash) nor 100 (filesystem)"};
    inv.host_port = static_cast<std::uint16_t>(in.parse_int(kind.int_digits_limit));
    inv.size = in.parse_int(kind.int_digits_limit);
    in.read();  // the separator, whatever it is
    inv.md5 = trim(in.read_until('\n'));
    if (inv.md5.size() != 32)
        return ignored{"MD5 field is " + std::to_string(inv.md5.size()) + " characters, not 32"};
    return inv;
}

std::variant<auth_request, ignored> parse_auth(std::string_view datagram, const kind_traits& kind) {
    datagram_reader in(datagram);
    const std::int32_t command = in.parse_int(kind.int_digits_limit);
    if (command != command_auth)
        return ignored{"expected AUTH (200), got command " + std::to_string(command)};
    in.read();
    auth_request auth;
    auth.cnonce = in.read_until(' ');
    auth.response = in.read_until('\n');
    const std::size_t want = challenge_length(kind);
    if (auth.cnonce.size() != want || auth.response.size() != want)
        return ignored{"AUTH cnonce/response are " + std::to_string(auth.cnonce.size()) + "/" +
                       std::to_string(auth.response.size()) + " characters, not " + std::to_string(want) + "/" +
                       std::to_string(want)};
    return auth;
}

}  // namespace otaflash::emulator::ota
