#pragma once
// Byte views and little-endian field access shared by every codec.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace otaflash {

using byte_view = std::span<const std::uint8_t>;
using bytes = std::vector<std::uint8_t>;

inline byte_view as_bytes(std::string_view text) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

inline std::string_view as_text(byte_view data) noexcept {
    return {reinterpret_cast<const char*>(data.data()), data.size()};
}

// Callers check bounds first; these only assemble the bytes.
inline std::uint16_t load_le16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
inline std::uint32_t load_le32(const std::uint8_t* p) noexcept {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
inline void append_le16(bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void append_le32(bytes& out, std::uint32_t v) {
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

}  // namespace otaflash
