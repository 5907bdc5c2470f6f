#include <otaflash/proto/rom/baud.hpp>

namespace otaflash::rom {

std::optional<std::uint32_t> esp32_rom_baud(std::uint32_t wanted, std::uint32_t rtc_cali_reg,
                                            std::uint32_t efuse_word4) noexcept {
    const std::uint64_t cali = (rtc_cali_reg >> 7) & 0x1FFFFFF;
    const std::uint64_t ck8m = efuse_word4 & 0xFF;
    const std::uint64_t rom_xtal_hz = cali * 15625 * ck8m / 40;
    // A real ROM's estimate lands within a few MHz of 26 or 40 MHz; anything else means the
    // registers did not hold what we expect, and skewing the rate by it would lose the chip.
    if (rom_xtal_hz < 20'000'000 || rom_xtal_hz > 50'000'000) return std::nullopt;
    const std::uint64_t real_hz = rom_xtal_hz > 33'000'000 ? 40'000'000 : 26'000'000;
    return static_cast<std::uint32_t>(std::uint64_t{wanted} * rom_xtal_hz / real_hz);
}

std::optional<unsigned> crystal_mhz(std::uint32_t current_baud, std::uint32_t uart_clkdiv_reg,
                                    unsigned xtal_clk_divider) noexcept {
    if (xtal_clk_divider == 0) return std::nullopt;
    const double estimate = static_cast<double>(current_baud) * (uart_clkdiv_reg & 0xFFFFF) / 1e6 / xtal_clk_divider;
    if (estimate < 20 || estimate > 55) return std::nullopt;
    if (estimate > 45) return 48u;
    if (estimate > 33) return 40u;
    return 26u;
}

std::uint32_t esp32c2_rom_baud(std::uint32_t wanted, unsigned crystal) noexcept {
    return crystal == 26 ? static_cast<std::uint32_t>(std::uint64_t{wanted} * 40 / 26) : wanted;
}

std::uint32_t esp32c5_rom_baud(std::uint32_t wanted, unsigned crystal, std::uint32_t pcr_sysclk_conf) noexcept {
    const unsigned expected = (pcr_sysclk_conf >> 24) & 0x7F;
    if (crystal == 48 && expected == 40) return static_cast<std::uint32_t>(std::uint64_t{wanted} * 40 / 48);
    if (crystal == 40 && expected == 48) return static_cast<std::uint32_t>(std::uint64_t{wanted} * 48 / 40);
    return wanted;
}

}  // namespace otaflash::rom
