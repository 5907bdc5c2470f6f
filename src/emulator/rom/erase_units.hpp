#pragma once
// Which erase commands an SPI NOR flash receives for a run of 4 KiB sectors: a 64 KiB block erase
// where a block boundary starts at least 16 sectors that are still to be erased, a sector erase
// everywhere else. The ROM's SPIEraseArea splits a FLASH_BEGIN range this way up front; the
// flasher stub makes the same choice unit by unit as it erases ahead of its writes.

#include <otaflash/proto/rom/command.hpp>

#include <cstdint>

namespace otaflash::emulator::rom {

using otaflash::rom::sectors_per_block;

struct erase_units {
    std::uint32_t sectors = 0;  // 4 KiB sector erases
    std::uint32_t blocks = 0;   // 64 KiB block erases

    std::uint32_t sectors_covered() const noexcept { return sectors + blocks * sectors_per_block; }
    erase_units& operator+=(const erase_units& other) noexcept {
        sectors += other.sectors;
        blocks += other.blocks;
        return *this;
    }
};

// The next erase at `sector` when `remaining` sectors (from `sector` on) still need erasing:
// one block or one sector.
erase_units next_erase_unit(std::uint32_t sector, std::uint32_t remaining) noexcept;

// All erases of `count` sectors from `first`, in order.
erase_units erase_area(std::uint32_t first, std::uint32_t count) noexcept;

}  // namespace otaflash::emulator::rom
