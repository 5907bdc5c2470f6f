#include <otaflash/util/base64.hpp>

namespace otaflash {
namespace {

int sextet(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

}  // namespace

std::optional<bytes> from_base64(std::string_view text) {
    bytes out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t pending = 0;
    int bits = 0;
    bool padding = false;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        const int v = sextet(c);
        if (v < 0 || padding) return std::nullopt;  // nothing may follow the padding
        pending = (pending << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(pending >> bits));
            pending &= (1u << bits) - 1;
        }
    }
    if (bits >= 6) return std::nullopt;  // a lone sextet carries no whole byte
    return out;
}

}  // namespace otaflash
