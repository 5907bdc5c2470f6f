#pragma once
// Reading back what the flash holds, as far as a ROM allows: the MD5 of a range (ESP32 family),
// 64 bytes at a time (READ_FLASH_SLOW), and, from those two, where a range first differs from the
// bytes it should hold.

#include <otaflash/chip/chip.hpp>
#include <otaflash/proto/rom/loader.hpp>

#include <optional>
#include <string>

namespace otaflash::rom {

// Lowercase hex MD5 of flash[offset, offset + size). The ROM answers 32 hex digits; a flasher
// stub left running answers 16 raw bytes: both are accepted.
result<std::string> flash_md5(loader& rom, std::uint32_t offset, std::uint32_t size);

result<bytes> read_flash_slow(loader& rom, std::uint32_t offset, std::uint32_t length);

struct difference {
    std::uint32_t start = 0;  // a range of at most one sector that holds the first difference
    std::uint32_t end = 0;    // one past it
    std::optional<std::uint32_t> first_byte;  // the first differing address, when the ROM can read
    std::uint8_t device = 0;  // what the flash holds there
    std::uint8_t expected = 0;
};

// Halves the range with MD5s (left half first, so it finds the first differing sector), then reads
// that sector 64 bytes at a time where the ROM can. nullopt when no part differs any more (the
// mismatch did not repeat).
result<std::optional<difference>> locate_difference(loader& rom, const chip_info& chip, std::uint32_t offset,
                                                    byte_view expected);

// "0x00011234 (flash 0x5a, file 0xa5) in 0x00011000–0x00011fff", for messages.
std::string describe(const difference& d);

}  // namespace otaflash::rom
