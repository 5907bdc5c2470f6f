#include <otaflash/util/hex.hpp>

namespace otaflash {
namespace {
constexpr char digits[] = "0123456789abcdef";

int nibble(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string to_hex(byte_view data) {
    std::string out;
    out.reserve(data.size() * 2);
    for (auto b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0f]);
    }
    return out;
}

std::optional<bytes> from_hex(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    bytes out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        int hi = nibble(text[i]);
        int lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
    }
    return out;
}

bool is_hex(std::string_view text) noexcept {
    for (char c : text)
        if (nibble(c) < 0) return false;
    return true;
}

std::string hex_digits(std::uint32_t value, unsigned count) {
    if (count == 0 || count > 8) count = 8;
    std::string out(2 + count, '0');
    out[1] = 'x';
    for (std::size_t i = out.size() - 1; i >= 2; --i, value >>= 4) out[i] = digits[value & 0x0f];
    return out;
}

std::string hex32(std::uint32_t value) { return hex_digits(value, 8); }

std::string hex_offset(std::size_t offset) {
    std::string out = hex32(static_cast<std::uint32_t>(offset));
    for (std::uint64_t high = static_cast<std::uint64_t>(offset) >> 32; high != 0; high >>= 4)
        out.insert(2, 1, digits[high & 0x0f]);
    return out;
}

}  // namespace otaflash
