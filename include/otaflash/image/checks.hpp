#pragma once
// The verdicts `otaflash verify` reports: each check names what was compared and how it came out.

#include <otaflash/error.hpp>
#include <otaflash/image/esp_image.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace otaflash::image {

struct check {
    std::string name;    // stable: "checksum", "sha256", "crc32", "segment_lengths", "chip", …
    std::string scope;   // which image of the file: "" for a lone image, "bootloader@0x00001000", …
    bool ok = false;
    std::string detail;  // one line: the value when ok, what differs when not
    std::string hint;    // what to do, when not ok
    errc code = errc::image_check_failed;  // reported when not ok
};

// A value stored in the file compared with the one computed from its bytes (both as hex text):
// detail "<what> <stored> valid", or "<what> mismatch at offset X (stored A, computed B)".
check compare_stored(std::string name, std::string scope, std::string_view what, std::size_t offset,
                     std::string stored, std::string computed, std::string hint);

// The checks one parsed image supports: checksum always; SHA-256 when the hash flag is set;
// CRC-32 on ESP8266 v2; segment lengths (multiples of 4, below 16 MiB) where the ESP-IDF
// bootloader enforces them.
std::vector<check> check_image(const image_info& image, const std::string& scope = {});

}  // namespace otaflash::image
