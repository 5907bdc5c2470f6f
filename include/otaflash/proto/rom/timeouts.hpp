#pragma once
// How long each ROM command may take, as esptool budgets it (../shared/protocols/rom-bootloader.md
// §4.4). Decided here, in the core; the port only arms the timer it is given.

#include <chrono>
#include <cstdint>

namespace otaflash::rom {

using duration = std::chrono::steady_clock::duration;

struct timeouts {
    duration command = std::chrono::seconds(3);            // most commands, each ROM FLASH_DATA block
    duration sync = std::chrono::milliseconds(100);        // the first reply to one SYNC
    duration max = std::chrono::seconds(240);              // cap on any single command
    double erase_seconds_per_mb = 40;                      // FLASH_BEGIN / FLASH_DEFL_BEGIN erase up front
    double write_seconds_per_mb = 40;                      // FLASH_DEFL_DATA, by uncompressed size
    double md5_seconds_per_mb = 8;                         // SPI_FLASH_MD5

    // `seconds_per_mb` × size (MB = 10^6 bytes, as esptool counts), never below `command`, never
    // above `max`.
    duration per_mb(double seconds_per_mb, std::uint64_t size) const noexcept;
    duration erase(std::uint64_t size) const noexcept { return per_mb(erase_seconds_per_mb, size); }
    duration write(std::uint64_t uncompressed) const noexcept { return per_mb(write_seconds_per_mb, uncompressed); }
    duration md5(std::uint64_t size) const noexcept { return per_mb(md5_seconds_per_mb, size); }
};

}  // namespace otaflash::rom
