#pragma once
// ESP-IDF descriptors at the start of the first segment's data (rom-bootloader.md §8.4).

#include <otaflash/image/esp_image.hpp>

namespace otaflash::image::detail {

// Fills image.app or image.bootloader when the first segment starts with a descriptor.
void read_descriptors(byte_view data, const chip_info& c, image_info& image);

}  // namespace otaflash::image::detail
