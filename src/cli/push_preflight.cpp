#include "cli/push_preflight.hpp"

#include "cli/commands/image_report.hpp"

#include <otaflash/chip/chip.hpp>
#include <otaflash/image/filesystem.hpp>
#include <otaflash/image/firmware_file.hpp>

namespace otaflash::cli {
namespace {

using namespace otaflash::image;

// Under espota compatibility a problem is reported and the file is pushed anyway.
result<preflight_result> problem(const preflight_request& request, preflight_result out, failure f) {
    if (!request.advisory) return f;
    out.warnings.push_back(f.message + " (" + f.hint + ")");
    return out;
}

// A file that is not an ESP image, said the way push says it.
failure not_an_app(failure f) {
    f.message = "not an app image: " + f.message;
    if (f.message.find("filesystem") != std::string::npos) f.hint = "push filesystem images with --fs";
    else f.hint += "; for a Raspberry Pi Pico (arduino-pico) give --chip rp2040";
    return f;
}

}  // namespace

std::optional<failure> preflight_head(const preflight_request& request, byte_view head, std::uint64_t file_size) {
    // Only where the whole file would be refused too: not for --fs, Pico boards or espota mode.
    if (request.filesystem || request.advisory || is_pico_chip(request.chip_name) ||
        (request.chip_name.empty() && request.pico_port))
        return std::nullopt;
    auto refused = refuse_from_head(head, file_size);
    if (!refused) return std::nullopt;
    return not_an_app(std::move(*refused));
}

bool is_pico_chip(const std::string& name) { return name == "rp2040" || name == "rp2350" || name == "pico"; }

result<preflight_result> preflight_image(const preflight_request& request) {
    preflight_result out;
    const bool pico = is_pico_chip(request.chip_name) || (request.chip_name.empty() && request.pico_port);
    analyze_options options;
    if (!request.chip_name.empty() && !pico) {
        const chip_info* c = find_chip(request.chip_name);
        if (!c)
            return make_failure(errc::usage_error, "unknown chip '" + request.chip_name + "'",
                                "--chip takes one of: " + chip_name_list() + ", rp2040, rp2350");
        options.expected_chip = c->id;
    }
    auto file = analyze_firmware(request.image, options);

    if (request.filesystem) {
        const auto fs = detect_filesystem(request.image);
        out.summary = fs ? std::string(fs->name) + " filesystem image" : "filesystem image";
        if (file && file->kind != file_kind::partition_table)
            return problem(request, std::move(out),
                           make_failure(errc::not_an_image,
                                        "this is " + file_summary(*file) + ", not a filesystem image, but --fs "
                                        "would replace the device's filesystem with it",
                                        "drop --fs to update the firmware; give --fs the filesystem image "
                                        "(littlefs.bin, spiffs.bin)"));
        return out;
    }
    if (pico) {
        out.summary = "raw image (not checked: arduino-pico images have no ESP header)";
        if (file && file->target)
            out.warnings.push_back("this file is " + file_summary(*file) + ", but the device was given as an arduino-pico board");
        return out;
    }
    if (!file) return problem(request, std::move(out), not_an_app(std::move(file).error()));
    out.summary = file_summary(*file);
    if (file->target) out.chip = std::string{name(*file->target)};
    out.signed_image = file->signature.has_value();
    out.notes = file->notes;
    if (file->kind == file_kind::partition_table)
        return problem(request, std::move(out),
                       make_failure(errc::not_an_image, "this is a partition table, not an app image",
                                    "push the application .bin the build produced"));
    if (file->kind == file_kind::merged)
        out.warnings.push_back("this is a merged flash image (bootloader, partition table, app) for serial flashing; "
                               "over the air the device expects the application .bin alone");
    else if (file->images.size() == 1 && file->images.front().image &&
             file->images.front().image->role == image_role::bootloader)
        // (An ESP8266 Arduino file is eboot and the app behind it: two images, and fine. A RAM-only
        // program is not refused: esptool's test programs are pushed as such in tests and demos.)
        out.warnings.push_back("this is a second-stage bootloader, not an application (" +
                               file->images.front().image->role_reason + "); the device will not boot it");
    for (const auto& c : file->checks) {
        if (c.ok) continue;
        return problem(request, std::move(out),
                       make_failure(c.code, "the image fails its own check: " + check_line(c),
                                    c.hint.empty() ? "rebuild it, and see 'otaflash verify FILE'" : c.hint));
    }
    return out;
}

}  // namespace otaflash::cli
