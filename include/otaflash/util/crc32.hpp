#pragma once
// CRC-32 of IEEE 802.3 (zlib's crc32): ESP8266 v2 images, MQTT OTA chunks and images.

#include <otaflash/util/bytes.hpp>

#include <cstdint>

namespace otaflash {

// Continue `crc` over `data`; start with crc32_update(0, first) or just crc32(all).
std::uint32_t crc32_update(std::uint32_t crc, byte_view data) noexcept;
inline std::uint32_t crc32(byte_view data) noexcept { return crc32_update(0, data); }

}  // namespace otaflash
