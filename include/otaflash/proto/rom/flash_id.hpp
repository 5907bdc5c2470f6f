#pragma once
// The SPI flash chip's JEDEC ID, read by driving the chip's SPI controller with READ_REG and
// WRITE_REG as esptool does (../shared/protocols/rom-bootloader.md §2.2), and the flash size its
// capacity byte gives.

#include <otaflash/chip/chip.hpp>
#include <otaflash/proto/rom/loader.hpp>

#include <optional>

namespace otaflash::rom {

inline constexpr std::uint8_t spiflash_rdid = 0x9F;
// The USR bit of the controller's command register (`spi_registers.base`): set to run the user
// command, cleared by the controller when it is done.
inline constexpr std::uint32_t spi_cmd_usr = 1u << 18;

// Manufacturer in bits 0-7, memory type 8-15, capacity 16-23; nullopt when the capacity byte is
// not one a flash chip uses (no flash answering reads as 0x000000 or 0xFFFFFF).
std::optional<std::uint32_t> flash_size_from_jedec(std::uint32_t id) noexcept;

// nullopt when the chip's SPI registers are not known or the ROM refuses register access
// (Secure Download Mode). Runs after the flash is attached.
result<std::optional<std::uint32_t>> read_flash_id(loader& rom, const chip_info& chip);

}  // namespace otaflash::rom
