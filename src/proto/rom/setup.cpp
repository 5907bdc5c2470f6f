#include <otaflash/proto/rom/setup.hpp>

#include <otaflash/proto/rom/baud.hpp>
#include <otaflash/proto/rom/reset.hpp>

namespace otaflash::rom {
namespace {

// After the switch the line carries garbage for a moment; esptool waits this long, then flushes.
constexpr auto baud_settle = std::chrono::milliseconds(50);

// The number to send so the ROM really runs at `wanted`; `wanted` itself when no correction applies
// or the registers it needs could not be read (logged).
result<std::uint32_t> rom_rate_for(loader& rom, const chip_info& chip, std::uint32_t wanted) {
    switch (chip.baud_quirk) {
    case rom_baud_quirk::none: return wanted;
    case rom_baud_quirk::esp32_rc_clock: {
        auto cali = try_read_register(rom, esp32_rtc_cali_reg);
        if (!cali) return std::move(cali).error();
        auto efuse = try_read_register(rom, esp32_efuse_word4_reg);
        if (!efuse) return std::move(efuse).error();
        if (*cali && *efuse) {
            if (auto skewed = esp32_rom_baud(wanted, **cali, **efuse)) return *skewed;
        }
        rom.log().write(log_level::debug, "no plausible ROM crystal estimate: sending the baud rate unchanged");
        return wanted;
    }
    case rom_baud_quirk::c2_26mhz_crystal:
    case rom_baud_quirk::c5_crystal: {
        auto clkdiv = try_read_register(rom, chip.uart_clkdiv_reg);
        if (!clkdiv) return std::move(clkdiv).error();
        auto crystal = *clkdiv ? crystal_mhz(rom.line().baud(), **clkdiv, chip.uart_clkdiv_divider) : std::nullopt;
        if (!crystal) {
            rom.log().write(log_level::debug, "crystal unknown: sending the baud rate unchanged");
            return wanted;
        }
        if (chip.baud_quirk == rom_baud_quirk::c2_26mhz_crystal) return esp32c2_rom_baud(wanted, *crystal);
        auto pcr = try_read_register(rom, esp32c5_pcr_sysclk_conf_reg);
        if (!pcr) return std::move(pcr).error();
        return *pcr ? esp32c5_rom_baud(wanted, *crystal, **pcr) : wanted;
    }
    }
    return wanted;
}

// The chip switched after answering at the old rate; the port follows.
result<baud_result> follow(loader& rom, std::uint32_t wanted, std::uint32_t told) {
    port& p = rom.line();
    auto set = p.set_baud(wanted);
    if (!set) return std::move(set).error();
    auto slept = p.sleep_until(p.now() + baud_settle);
    if (!slept) return std::move(slept).error();
    auto cleared = rom.discard_input();
    if (!cleared) return std::move(cleared).error();
    rom.take_noise();
    return baud_result{wanted, told, {}};
}

}  // namespace

result<baud_result> change_baud(loader& rom, const chip_identity& chip, std::uint32_t wanted) {
    port& p = rom.line();
    baud_result out;
    out.rate = p.baud();
    if (wanted == p.baud()) return out;
    if (rom.stub_running()) {  // the stub computes its divider from the real clock: no corrections
        auto changed = rom.execute(change_baudrate(wanted, p.baud()), rom.limits().command,
                                   "change the baud rate to " + std::to_string(wanted));
        if (!changed) return std::move(changed).error();
        return follow(rom, wanted, wanted);
    }
    if (!chip.chip->rom_change_baud) {
        out.note = "the " + std::string(chip.chip->display_name) + " ROM cannot change the baud rate: staying at " +
                   std::to_string(p.baud()) + " (faster needs a flasher stub)";
        return out;
    }
    const bool sdm = chip.security && chip.security->secure_download_mode();
    if (sdm && chip.chip->baud_quirk != rom_baud_quirk::none && chip.chip->baud_quirk != rom_baud_quirk::esp32_rc_clock) {
        out.note = "the baud rate cannot be changed in Secure Download Mode: staying at " + std::to_string(p.baud());
        return out;
    }
    std::uint32_t told = wanted;
    if (!sdm) {  // Secure Download Mode refuses READ_REG, so no correction can be read there
        auto corrected = rom_rate_for(rom, *chip.chip, wanted);
        if (!corrected) return std::move(corrected).error();
        told = *corrected;
    }
    auto changed = rom.execute(change_baudrate(told, 0), rom.limits().command,
                               "change the baud rate to " + std::to_string(wanted));
    if (!changed) return std::move(changed).error();
    return follow(rom, wanted, told);
}

result<void> attach_flash(loader& rom, const chip_info& chip) {
    auto r = rom.stub_running() ? rom.execute(stub_spi_attach(0), rom.limits().command, "attach the SPI flash")
             : chip.rom_spi_attach
                 ? rom.execute(spi_attach(0), rom.limits().command, "attach the SPI flash")
                 : rom.execute(flash_begin(0, 0, rom_block_size, 0, std::nullopt), rom.limits().command,
                               "attach the SPI flash");
    if (!r) return std::move(r).error();
    return {};
}

result<void> set_flash_size(loader& rom, const chip_info& chip, std::optional<std::uint32_t> flash_size) {
    if (!(chip.rom_spi_attach || rom.stub_running()) || !flash_size) return {};
    auto set = rom.execute(spi_set_params(*flash_size), rom.limits().command,
                           "set the flash size to " + std::to_string(*flash_size) + " bytes");
    if (!set) return std::move(set).error();
    return {};
}

namespace {
result<std::string> run_application(loader& rom, const chip_info& chip) {
    const std::optional<bool> enc = chip.rom_begin_encrypt_word ? std::optional<bool>(false) : std::nullopt;
    auto begun = rom.execute(flash_begin(0, 0, rom_block_size, 0, enc), rom.limits().command,
                             "prepare to leave the bootloader");
    if (!begun) return std::move(begun).error();
    auto ended = rom.execute(flash_end(end_action::run_application), rom.limits().command, "start the application");
    if (!ended) return std::move(ended).error();
    return std::string("application started by the ROM (FLASH_END)");
}

// FLASH_END(reboot) makes a stub reset the chip by software: it comes back in whatever the boot
// strap selects (the ROM bootloader while the strap holds it there, else the application).
result<std::string> reboot_stub(loader& rom) {
    auto begun = rom.execute(flash_begin(0, 0, stub_block_size, 0, std::nullopt), rom.limits().command,
                             "prepare to leave the flasher stub");
    if (!begun) return std::move(begun).error();
    auto ended = rom.execute(flash_end(end_action::reboot), rom.limits().command, "reboot the chip from the flasher stub");
    if (!ended) return std::move(ended).error();
    return std::string("software reset by the flasher stub");
}

}  // namespace

result<std::string> finish(loader& rom, const chip_info& chip, after_action action, bool usb) {
    if (rom.stub_running() && action != after_action::hard_reset) return reboot_stub(rom);
    switch (action) {
    case after_action::no_reset: return std::string("none (the chip stays in the bootloader)");
    case after_action::soft_reset: return run_application(rom, chip);
    case after_action::hard_reset: break;
    }
    auto lines = run_reset(rom.line(), hard_reset(usb));
    if (!lines) return std::move(lines).error();
    if (*lines) return std::string("hard reset (RTS)");
    rom.log().write(log_level::debug, "no modem lines for a hard reset: asking the chip to start the application");
    return rom.stub_running() ? reboot_stub(rom) : run_application(rom, chip);
}

}  // namespace otaflash::rom
