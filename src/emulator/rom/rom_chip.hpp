#pragma once
// The chips the emulated ROM models. Protocol facts come from the project's chip table
// (include/otaflash/chip/chip.hpp); only what the emulator alone needs is here: the crystal it
// pretends to have and the text its ROM prints on boot.

#include <otaflash/chip/chip.hpp>
#include <otaflash/chip/efuse.hpp>

#include <optional>
#include <span>
#include <string_view>

namespace otaflash::emulator::rom {

using chip_kind = otaflash::chip;

struct rom_chip {
    const otaflash::chip_info* info;
    std::uint32_t xtal_hz;
    std::string_view download_banner;  // printed on a reset into download mode
    std::string_view app_banner;       // printed by the ROM when it boots from flash
    chip_revision revision;            // the silicon most modules sold today carry
    std::uint32_t oui;                 // an Espressif MAC prefix seen on this chip

    std::string_view name() const noexcept { return info->name; }
    bool esp8266() const noexcept { return info->id == chip_kind::esp8266; }
    std::size_t status_size() const noexcept { return info->rom_status_length; }
};

// Only the chips in emulated_chips() may be passed.
const rom_chip& emulated_chip(chip_kind kind) noexcept;
std::span<const chip_kind> emulated_chips() noexcept;
// nullopt for an unknown chip or one the emulator does not model.
std::optional<chip_kind> emulated_chip_named(std::string_view name) noexcept;

}  // namespace otaflash::emulator::rom
