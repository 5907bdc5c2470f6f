#include <otaflash/proto/rom/safety.hpp>

#include <otaflash/image/firmware_file.hpp>
#include <otaflash/proto/rom/command.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace otaflash::rom {

std::optional<std::uint32_t> parse_flash_size(std::string_view text) {
    std::string t;
    for (char c : text) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (t.ends_with("-C1")) t.resize(t.size() - 3);  // ESP8266 layout variants of the same chip size
    std::uint64_t unit = 1;
    int base = 10;
    std::string_view digits = t;
    if (digits.starts_with("0X")) {
        base = 16;
        digits.remove_prefix(2);
    } else {
        for (auto [suffix, factor] : {std::pair<std::string_view, std::uint64_t>{"KB", 1024}, {"K", 1024},
                                      {"MB", 1024 * 1024}, {"M", 1024 * 1024}}) {
            if (digits.ends_with(suffix)) {
                digits.remove_suffix(suffix.size());
                unit = factor;
                break;
            }
        }
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    value *= unit;
    if (value == 0 || value > (std::uint64_t{1} << 31)) return std::nullopt;
    return static_cast<std::uint32_t>(value);
}

namespace {

struct erase_range {
    std::uint64_t start, end;
    const region_input* region;
};

erase_range erased_by(const region_input& r) {
    const std::uint64_t start = r.offset / flash_sector_size * flash_sector_size;
    const std::uint64_t end = (std::uint64_t{r.offset} + r.data.size() + flash_sector_size - 1) / flash_sector_size *
                              flash_sector_size;
    return {start, end, &r};
}

std::string size_text(std::uint64_t bytes) {
    if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
    if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace

std::optional<failure> check_layout(const std::vector<region_input>& regions) {
    std::vector<erase_range> ranges;
    for (const auto& r : regions) ranges.push_back(erased_by(r));
    std::sort(ranges.begin(), ranges.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        const auto& a = ranges[i - 1];
        const auto& b = ranges[i];
        if (b.start < a.end)
            return make_failure(errc::usage_error,
                                a.region->label + " at " + hex32(a.region->offset) + " and " + b.region->label + " at " +
                                    hex32(b.region->offset) + " overlap in flash (sector " + hex32(static_cast<std::uint32_t>(b.start)) +
                                    " would be erased for both)",
                                "give each file its own range of 4 KiB sectors");
    }
    return std::nullopt;
}

namespace {

// The flash size each image's header names, with the image's flash address.
struct header_size {
    std::uint64_t at;
    std::uint32_t size;
    const region_input* region;
};

std::vector<header_size> header_sizes(const chip_info& chip, const std::vector<region_input>& regions) {
    std::vector<header_size> out;
    for (const auto& r : regions) {
        auto file = image::analyze_firmware(r.data);
        if (!file || file->gzip) continue;
        for (const auto& embedded : file->images) {
            if (!embedded.image) continue;
            auto label = flash_size_label(chip, embedded.image->flash_size_code);
            if (auto size = label ? parse_flash_size(*label) : std::nullopt)
                out.push_back({std::uint64_t{r.offset} + embedded.offset, *size, &r});
        }
    }
    return out;
}

}  // namespace

flash_size_choice choose_flash_size(const chip_info& chip, const std::vector<region_input>& regions,
                                    std::optional<std::uint32_t> option, std::optional<std::uint32_t> detected,
                                    std::optional<std::uint32_t> jedec_id) {
    flash_size_choice out;
    const auto headers = header_sizes(chip, regions);
    if (option) {
        out.size = option;
        out.source = "--flash-size";
    } else if (detected) {
        out.size = detected;
        out.source = "the flash chip" + (jedec_id ? " (JEDEC ID " + hex_digits(*jedec_id, 6) + ")" : std::string{});
    } else if (!headers.empty()) {
        auto at_boot = std::find_if(headers.begin(), headers.end(),
                                    [&](const header_size& h) { return h.at == chip.bootloader_offset; });
        const header_size& h = at_boot != headers.end() ? *at_boot : headers.front();
        out.size = h.size;
        out.source = "the image header of " + h.region->label;
    }
    if (detected) {
        const region_input* warned = nullptr;  // a merged image has a header per part: one warning per file
        for (const auto& h : headers)
            if (h.size > *detected && h.region != warned) {
                warned = h.region;
                out.warnings.push_back(h.region->label + " is built for " + size_text(h.size) + " of flash, but the chip has " +
                                       size_text(*detected) + ": it may not boot");
            }
    }
    return out;
}

std::optional<failure> check_fit(const chip_info& chip, const std::vector<region_input>& regions,
                                 const flash_size_choice& flash) {
    const std::uint64_t limit = flash.size ? std::min<std::uint64_t>(*flash.size, rom_flash_limit)
                                           : (chip.rom_spi_attach ? rom_default_flash_size : rom_flash_limit);
    for (const auto& r : regions) {
        const std::uint64_t end = std::uint64_t{r.offset} + r.data.size();
        if (end <= limit) continue;
        std::string why = flash.size ? "the " + size_text(*flash.size) + " flash (size from " + flash.source + ")"
                          : chip.rom_spi_attach ? "the 2 MiB an ESP32-family ROM assumes when the flash size is unknown"
                                                : "the 16 MiB a ROM can address";
        if (flash.size && *flash.size > rom_flash_limit) why = "the 16 MiB a ROM can address";
        return make_failure(errc::image_too_large,
                            r.label + " (" + std::to_string(r.data.size()) + " bytes at " + hex32(r.offset) +
                                ") ends at " + hex32(static_cast<std::uint32_t>(std::min<std::uint64_t>(end, 0xFFFFFFFF))) +
                                ", past " + why,
                            flash.size ? "use a smaller image or another offset, or correct --flash-size"
                                       : "give the flash size with --flash-size (e.g. 4MB)");
    }
    return std::nullopt;
}

safety_report check_regions(const chip_info& chip, const std::vector<region_input>& regions,
                            const flash_size_choice& flash, bool force) {
    safety_report out;
    const auto refuse = [&](failure f) {
        if (!out.refusal) out.refusal = std::move(f);
    };
    for (const auto& r : regions) {
        auto file = image::analyze_firmware(r.data);
        if (!file) continue;  // not firmware (a filesystem, a data partition): nothing to compare
        if (file->gzip) {
            failure f = make_failure(errc::not_an_image,
                                     r.label + " is gzip-compressed: the ROM writes bytes as they are, so the chip "
                                               "would not boot it",
                                     "decompress it first (gunzip), or add --force to write it anyway");
            if (force) out.warnings.push_back(f.message + " (written anyway: --force)");
            else refuse(std::move(f));
            continue;
        }
        if (file->target && *file->target != chip.id) {
            failure f = make_failure(errc::chip_mismatch,
                                     r.label + " is built for the " + std::string(info(*file->target).display_name) +
                                         ", but the device is an " + std::string(chip.display_name),
                                     "pick the build for this chip, or add --force if you really mean it");
            if (force) out.warnings.push_back(f.message + " (written anyway: --force)");
            else refuse(std::move(f));
        }
        for (const auto& c : file->checks)
            if (!c.ok)
                out.warnings.push_back(r.label + ": " + c.name + " check failed (" + c.detail +
                                       "): the chip may refuse to boot it");
        if (chip.id == chip::esp8266) continue;  // its applications start at the boot offset too
        for (const auto& embedded : file->images) {
            if (!embedded.image) continue;
            const image::image_info& img = *embedded.image;
            const std::uint64_t at = std::uint64_t{r.offset} + embedded.offset;
            if (img.app && at == chip.bootloader_offset)
                out.warnings.push_back(r.label + " holds an application (" +
                                       (img.app->project_name.empty() ? std::string("esp_app_desc") : img.app->project_name) +
                                       ") at " + hex32(static_cast<std::uint32_t>(at)) + ", where the " +
                                       std::string(chip.display_name) +
                                       " ROM expects the second-stage bootloader: the chip will not boot it");
            if (img.bootloader && at != chip.bootloader_offset)
                out.warnings.push_back(r.label + " holds a bootloader at " + hex32(static_cast<std::uint32_t>(at)) +
                                       ", but the " + std::string(chip.display_name) + " ROM boots from " +
                                       hex32(chip.bootloader_offset));
        }
    }
    if (auto too_large = check_fit(chip, regions, flash)) refuse(std::move(*too_large));
    return out;
}

}  // namespace otaflash::rom
