#pragma once
// Which number to send in CHANGE_BAUDRATE so that the ROM really ends up at the rate the host
// switches to (../shared/protocols/rom-bootloader.md §6). Pure arithmetic over register values the
// caller read with READ_REG.

#include <cstdint>
#include <optional>

namespace otaflash::rom {

// ESP32: the ROM derives its divider from a crystal estimate made with the drifting 8 MHz RC
// clock. Its estimate is ((RTCCALICFG1 >> 7) & 0x1FFFFFF) × 15625 × (eFuse word 4 & 0xFF) / 40;
// the real crystal is 40 MHz above 33 MHz, else 26 MHz. Send new × estimate / real.
// nullopt when the registers give no plausible estimate (then send the rate unchanged).
inline constexpr std::uint32_t esp32_rtc_cali_reg = 0x3FF5F06C;
inline constexpr std::uint32_t esp32_efuse_word4_reg = 0x3FF5A010;
std::optional<std::uint32_t> esp32_rom_baud(std::uint32_t wanted, std::uint32_t rtc_cali_reg,
                                            std::uint32_t efuse_word4) noexcept;

// The crystal in MHz (26, 40 or 48) estimated from the UART clock divider the ROM auto-bauded to,
// as esptool does: baud × (UART_CLKDIV & 0xFFFFF) / 10^6 / divider. nullopt when implausible.
std::optional<unsigned> crystal_mhz(std::uint32_t current_baud, std::uint32_t uart_clkdiv_reg,
                                    unsigned xtal_clk_divider) noexcept;

// ESP32-C2: the ROM assumes a 40 MHz crystal; with a 26 MHz one send new × 40 / 26.
std::uint32_t esp32c2_rom_baud(std::uint32_t wanted, unsigned crystal) noexcept;

// ESP32-C5: the ROM's expectation is PCR_SYSCLK_CONF bits 30:24; when it expects 40 but the
// crystal is 48 send new × 40 / 48, and the reverse.
inline constexpr std::uint32_t esp32c5_pcr_sysclk_conf_reg = 0x60096110;
std::uint32_t esp32c5_rom_baud(std::uint32_t wanted, unsigned crystal, std::uint32_t pcr_sysclk_conf) noexcept;

}  // namespace otaflash::rom
