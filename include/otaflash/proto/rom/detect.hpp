#pragma once
// Which chip answered: the magic word at 0x40001000 first, then GET_SECURITY_INFO's chip id for
// chips whose magic is unknown or unreadable (../shared/protocols/rom-bootloader.md §3).

#include <otaflash/chip/chip.hpp>
#include <otaflash/chip/efuse.hpp>
#include <otaflash/proto/rom/loader.hpp>

#include <optional>
#include <string>

namespace otaflash::rom {

struct security_info {
    std::uint32_t flags = 0;
    std::uint8_t flash_crypt_cnt = 0;
    std::optional<std::uint32_t> chip_id;  // absent on ESP32-S2 (12-byte reply)
    std::optional<std::uint32_t> eco_version;

    bool secure_boot() const noexcept { return flags & 0x1; }
    bool secure_download_mode() const noexcept { return flags & 0x4; }
};

// The GET_SECURITY_INFO payload (20 or 12 bytes); nullopt for any other length.
std::optional<security_info> parse_security_info(byte_view payload);

struct chip_identity {
    const chip_info* chip = nullptr;
    std::optional<std::uint32_t> magic;     // READ_REG 0x40001000, when the ROM allowed it
    std::optional<security_info> security;  // when the ROM has GET_SECURITY_INFO
    std::string how;                        // "magic 0x00f01d83", "chip id 9 (GET_SECURITY_INFO)"
    std::optional<chip_fuses> fuses;        // factory MAC and revision, when read_fuses could read them
};

// Sets the loader's status length for the chip found. `expected` (--chip) is trusted only when
// the device cannot tell; a device that says it is another chip fails with errc::chip_mismatch.
result<chip_identity> detect_chip(loader& rom, const chip_info* expected);

// The factory MAC and the silicon revision from the chip's eFuse words (chip/efuse.hpp); nullopt
// when the layout is unknown for this chip or the ROM refuses register reads (Secure Download Mode).
result<std::optional<chip_fuses>> read_fuses(loader& rom, const chip_info& c);

}  // namespace otaflash::rom
