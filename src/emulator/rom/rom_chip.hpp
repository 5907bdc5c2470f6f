#pragma once
// What the emulated ROM needs to know about each chip, in one small table
// (../shared/protocols/rom-bootloader.md §1.3, §2, §3, §11, §2.2). To move into
// include/otaflash/chip/chip.hpp once branch `image` has it.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace otaflash::emulator::rom {

enum class chip_kind : std::uint8_t { esp8266, esp32, esp32s2, esp32s3, esp32c3 };

// Register layout of the SPI flash controller (§2.2): offsets from the controller base.
struct spi_registers {
    std::uint32_t base;
    std::uint32_t usr;
    std::uint32_t usr2;
    std::uint32_t w0;
};

struct rom_chip {
    chip_kind kind;
    std::string_view name;
    bool esp8266_rom;                 // 2 status bytes, small command set, erase-size bug
    std::uint32_t magic;              // READ_REG 0x40001000
    std::optional<std::uint16_t> chip_id;  // GET_SECURITY_INFO / image header; none on ESP8266
    std::size_t security_info_size;   // 0 = GET_SECURITY_INFO unsupported (ESP8266, ESP32 ROM)
    bool flash_begin_encrypted_word;  // S2 and later ROMs take a 5th FLASH_BEGIN word
    std::uint32_t uart_clkdiv_reg;    // crystal estimate (§3)
    std::uint32_t clkdiv_scale;       // 2 on ESP8266, else 1
    std::uint32_t xtal_hz;
    std::uint32_t boot_log_baud;      // the ROM's banner rate: 74880 on ESP8266 with 26 MHz crystal
    spi_registers spi;
    std::string_view download_banner;  // printed on a reset into download mode
    std::string_view app_banner;       // printed by the ROM when it boots from flash
};

inline constexpr std::size_t status_size(const rom_chip& chip) noexcept { return chip.esp8266_rom ? 2 : 4; }

const rom_chip& chip_info(chip_kind kind) noexcept;
std::optional<chip_kind> chip_from_name(std::string_view name) noexcept;
std::span<const rom_chip> all_chips() noexcept;

}  // namespace otaflash::emulator::rom
