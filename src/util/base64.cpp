#include <otaflash/util/base64.hpp>

namespace otaflash {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

std::string to_base64(byte_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        const std::size_t left = data.size() - i;
        std::uint32_t v = std::uint32_t{data[i]} << 16;
        if (left > 1) v |= std::uint32_t{data[i + 1]} << 8;
        if (left > 2) v |= data[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += left > 1 ? alphabet[(v >> 6) & 63] : '=';
        out += left > 2 ? alphabet[v & 63] : '=';
    }
    return out;
}

}  // namespace otaflash
