#pragma once
// The emulated SPI NOR flash: erase sets whole 4 KiB sectors to 0xFF, programming can only turn
// bits from 1 to 0 (so writing over data that was not erased leaves the AND of both, which the
// ROM's read-back check then reports), and addresses wrap at the chip size as a real chip's
// upper address bits are ignored.

#include <otaflash/util/bytes.hpp>

#include <cstdint>

namespace otaflash::emulator::rom {

class flash_memory {
public:
    // `contents.size()` must be a power of two (every SPI NOR size is).
    explicit flash_memory(bytes contents);

    std::size_t size() const noexcept { return data_.size(); }
    const bytes& contents() const noexcept { return data_; }

    void erase_sectors(std::uint32_t first_sector, std::uint32_t count);
    // Returns whether reading back gives `block` (false when it landed on unerased bits).
    bool program(std::uint32_t address, byte_view block);
    bytes read(std::uint32_t address, std::size_t length) const;
    void invert(std::uint32_t address);

private:
    std::size_t wrap(std::uint64_t address) const noexcept { return static_cast<std::size_t>(address) & (data_.size() - 1); }
    bytes data_;
};

}  // namespace otaflash::emulator::rom
