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

// The flash size a session works with, and where it came from.
struct flash_size_choice {
    std::optional<std::uint32_t> size;
    std::string source;  // "--flash-size", "the flash chip (JEDEC ID 0x1640ef)", "the image header of …"
    std::vector<std::string> warnings;
};

// --flash-size when given; else what the flash chip reports (`detected`, from its JEDEC ID); else
// the flash-size field of the image at the chip's boot offset, else of any image (what the firmware
// was built for); else unknown. Warns when an image is built for more flash than the chip has.
flash_size_choice choose_flash_size(const chip_info& chip, const std::vector<region_input>& regions,
                                    std::optional<std::uint32_t> option, std::optional<std::uint32_t> detected,
                                    std::optional<std::uint32_t> jedec_id = std::nullopt);

// Every region must end inside the flash: the size chosen, the 2 MiB an ESP32-family ROM assumes
// when it is unknown, and never past the 16 MiB a ROM addresses. Nothing overrides this.
std::optional<failure> check_fit(const chip_info& chip, const std::vector<region_input>& regions,
                                 const flash_size_choice& flash);

struct safety_report {
    std::optional<failure> refusal;  // the first reason not to write at all
    std::vector<std::string> warnings;
};

// Images built for another chip (or gzip-compressed files) are refused unless `force`, which
// turns them into warnings; images at an offset their chip does not boot them from are warned
// about; check_fit decides the rest.
safety_report check_regions(const chip_info& chip, const std::vector<region_input>& regions,
                            const flash_size_choice& flash, bool force);

}  // namespace otaflash::rom
