#pragma once
// Writing one region: FLASH_BEGIN, then FLASH_DATA blocks, or a zlib stream in FLASH_DEFL_DATA
// blocks where the loader inflates. Through the ROM: it erases the whole range up front, takes
// 1 KiB blocks and programs each before answering; FLASH_END is not sent, since it would make the
// ROM leave the bootloader (§2.1). Through a flasher stub: 16 KiB blocks, answered on arrival and
// programmed while the next arrives, then FLASH_END(stay) as the barrier that waits for the last
// one. The caller ends the session with `finish`.

#include <otaflash/chip/chip.hpp>
#include <otaflash/crypto/digest.hpp>
#include <otaflash/progress.hpp>
#include <otaflash/proto/rom/loader.hpp>

#include <string_view>

namespace otaflash::rom {

struct region_plan {
    std::uint32_t offset = 0;  // sector-aligned start: the ROM erases and writes from here
    std::uint32_t lead = 0;    // 0xFF bytes put in front of the file to reach that boundary
    bytes data;                // lead + file + 0xFF up to a multiple of 4: exactly what is written
    md5_digest md5{};          // of `data`: what SPI_FLASH_MD5 must report afterwards

    std::uint64_t end() const noexcept { return std::uint64_t{offset} + data.size(); }
};

// The ROM only erases whole sectors from a sector boundary, so an unaligned offset gets 0xFF in
// front (those bytes of the sector are erased either way), as esptool does in ROM mode.
region_plan plan_region(std::uint32_t offset, byte_view file);

struct write_stats {
    bool compressed = false;
    std::uint64_t sent = 0;     // payload bytes carried by data blocks (the compressed size when compressed)
    std::uint32_t blocks = 0;
    int retries = 0;            // blocks sent again after the ROM refused them
    duration erase_time{};      // FLASH_BEGIN / FLASH_DEFL_BEGIN round trip: the ROM erases then
    duration write_time{};      // first data block sent → last block confirmed
};

// Nothing is reported written unless the loader accepted every block. `compress` is honoured only
// where the loader inflates (not the ESP8266 ROM) and only when it shrinks the data.
result<write_stats> write_region(loader& rom, const chip_info& chip, const region_plan& plan, bool compress,
                                 progress_sink& progress);

// A block the ROM refuses is sent this many times in all (esptool's WRITE_BLOCK_ATTEMPTS).
inline constexpr int block_attempts = 3;

}  // namespace otaflash::rom
