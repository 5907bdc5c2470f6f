#pragma once
// ESP8266 v2 images (rom-bootloader.md §8.6): for the SDK second-stage bootloader, not the ROM.

#include <otaflash/image/esp_image.hpp>

namespace otaflash::image::detail {

// data[0] is 0xEA.
result<image_info> read_esp8266_v2(byte_view data);

// CRC-32 (IEEE) of `data`, then the v2 post-processing: XOR with all ones when the top bit is set,
// otherwise plus one.
std::uint32_t esp8266_v2_crc(byte_view data) noexcept;

}  // namespace otaflash::image::detail
