#pragma once
// What otaflash checks in a file before it contacts a device (user-needs.md §8, §15): an app
// image must be an ESP image (for the --chip, when given) that passes its own checks; a merged
// factory image, a bootloader, or an app sent with --fs is worth a warning. Raspberry Pi Pico
// (arduino-pico) images are raw binaries and are not checked. Pure: bytes in, verdict out.

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <optional>
#include <string>
#include <vector>

namespace otaflash::cli {

struct preflight_request {
    byte_view image;
    bool filesystem = false;       // --fs
    std::string chip_name;         // --chip; "rp2040"/"rp2350" for arduino-pico devices
    bool pico_port = false;        // the device port was pinned to 2040 (arduino-pico's default)
    bool advisory = false;         // espota compatibility: problems are warnings, the file goes as it is
};

struct preflight_result {
    std::optional<std::string> chip;   // what the image is built for
    std::string summary;               // "esp32 image", "raw image (not checked)"
    bool signed_image = false;         // an esp8266 signature trailer
    std::vector<std::string> warnings;
    std::vector<std::string> notes;
};

result<preflight_result> preflight_image(const preflight_request& request);

// The refusal preflight_image would give, when the file's first bytes already decide it (for
// read_file's head check: a file plainly not an image is not read whole). `request.image` unused.
std::optional<failure> preflight_head(const preflight_request& request, byte_view head, std::uint64_t file_size);

// True for the names --chip takes for arduino-pico boards.
bool is_pico_chip(const std::string& name);

}  // namespace otaflash::cli
