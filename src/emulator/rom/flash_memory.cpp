#include "flash_memory.hpp"

#include <otaflash/proto/rom/command.hpp>

#include <bit>
#include <cassert>

namespace otaflash::emulator::rom {

flash_memory::flash_memory(bytes contents) : data_(std::move(contents)) { assert(std::has_single_bit(data_.size())); }

void flash_memory::erase_sectors(std::uint32_t first_sector, std::uint32_t count) {
    for (std::uint64_t s = first_sector; s < std::uint64_t{first_sector} + count; ++s) {
        const std::size_t start = wrap(s * otaflash::rom::flash_sector_size);
        std::fill_n(data_.begin() + static_cast<std::ptrdiff_t>(start), otaflash::rom::flash_sector_size, std::uint8_t{0xFF});
    }
}

bool flash_memory::program(std::uint32_t address, byte_view block) {
    bool same = true;
    for (std::size_t i = 0; i < block.size(); ++i) {
        auto& cell = data_[wrap(std::uint64_t{address} + i)];
        cell &= block[i];
        same = same && cell == block[i];
    }
    return same;
}

bytes flash_memory::read(std::uint32_t address, std::size_t length) const {
    bytes out(length);
    for (std::size_t i = 0; i < length; ++i) out[i] = data_[wrap(std::uint64_t{address} + i)];
    return out;
}

void flash_memory::invert(std::uint32_t address) { data_[wrap(address)] ^= 0xFF; }

}  // namespace otaflash::emulator::rom
