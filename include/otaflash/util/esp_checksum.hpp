#pragma once
// Espressif's one-byte checksum: 0xEF XOR every byte. The image format uses it over segment data,
// the ROM protocol over each data block.

#include <otaflash/util/bytes.hpp>

namespace otaflash {

inline constexpr std::uint8_t esp_checksum_seed = 0xEF;

// Continues a running checksum over `data` (start with esp_checksum_seed).
inline std::uint8_t esp_checksum(byte_view data, std::uint8_t running = esp_checksum_seed) noexcept {
    for (auto b : data) running ^= b;
    return running;
}

}  // namespace otaflash
