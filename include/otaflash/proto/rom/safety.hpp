#pragma once
// What must be true before anything is erased: the regions do not overlap, each image is built
// for the chip that answered, everything fits the flash, and images sit where the chip boots them.
// Pure: file bytes and chip facts in, refusals and warnings out.

#include <otaflash/chip/chip.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::rom {

struct region_input {
    std::uint32_t offset = 0;
    bytes data;
    std::string label;  // the file name, for messages
};

// "4MB", "4M", "512KB", "2MB-c1" (ESP8266 header labels), "0x400000" or "4194304" → bytes.
std::optional<std::uint32_t> parse_flash_size(std::string_view text);

// Two regions whose erased sectors overlap would wipe each other (the ROM erases whole sectors).
std::optional<failure> check_layout(const std::vector<region_input>& regions);

// No ROM addresses flash past 16 MiB without a flasher stub (§4.5).
inline constexpr std::uint64_t rom_flash_limit = 16u << 20;
// What an ESP32-family ROM assumes until SPI_SET_PARAMS says otherwise.
inline constexpr std::uint32_t rom_default_flash_size = 2u << 20;

struct safety_report {
    std::optional<failure> refusal;      // the first reason not to write at all
    std::vector<std::string> warnings;
    std::optional<std::uint32_t> flash_size;  // the size the session tells the ROM, when known
    std::string flash_size_source;            // "--flash-size", "header of bootloader.bin", …
};

// `flash_size` is --flash-size when given; otherwise the size comes from the flash-size field of
// the image at the chip's bootloader offset (what that firmware was built for), else it is unknown.
// `force` turns a chip mismatch into a warning; nothing turns "does not fit" into one.
safety_report check_regions(const chip_info& chip, const std::vector<region_input>& regions,
                            std::optional<std::uint32_t> flash_size, bool force);

}  // namespace otaflash::rom
