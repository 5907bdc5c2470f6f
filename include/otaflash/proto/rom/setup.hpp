#pragma once
// The steps around the flash writes: switching the baud rate, attaching the SPI flash, and what
// happens to the chip afterwards.

#include <otaflash/chip/chip.hpp>
#include <otaflash/proto/rom/detect.hpp>
#include <otaflash/proto/rom/loader.hpp>

#include <optional>
#include <string>

namespace otaflash::rom {

inline constexpr std::uint32_t rom_initial_baud = 115200;

struct baud_result {
    std::uint32_t rate = rom_initial_baud;  // the rate the session now runs at
    std::uint32_t told_rom = 0;            // what CHANGE_BAUDRATE carried (after crystal corrections); 0: not sent
    std::string note;                      // why the rate was not changed, when it was not
};

// CHANGE_BAUDRATE with the chip's corrections, then the port follows (§6). The ESP8266 ROM cannot
// switch (and neither can a C2/C5 in Secure Download Mode): the session stays at the current rate
// and `note` says so.
result<baud_result> change_baud(loader& rom, const chip_identity& chip, std::uint32_t wanted);

// SPI_ATTACH on ESP32-family ROMs; FLASH_BEGIN(0, 0) on the ESP8266 ROM, which attaches the
// flash that way.
result<void> attach_flash(loader& rom, const chip_info& chip);

// SPI_SET_PARAMS with the flash size (ESP32-family ROMs assume 2 MiB until told); nothing on the
// ESP8266 ROM, which has no such command, or when the size is unknown.
result<void> set_flash_size(loader& rom, const chip_info& chip, std::optional<std::uint32_t> flash_size);

enum class after_action {
    hard_reset,  // pulse EN through RTS; without modem lines, ask the ROM to run the application
    soft_reset,  // ask the ROM to run the application: FLASH_BEGIN(0, 0) then FLASH_END(run)
    no_reset,    // leave the chip in the bootloader
};

// Returns what happened, for the report: "hard reset (RTS)", "application started by the ROM
// (FLASH_END)", "none".
result<std::string> finish(loader& rom, const chip_info& chip, after_action action, bool usb);

}  // namespace otaflash::rom
