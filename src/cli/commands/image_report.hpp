#pragma once
// Rendering of an analysed firmware file, shared by `info` and `verify`: the JSON form of every
// fact, and the human text of checks.

#include <otaflash/image/firmware_file.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace otaflash::cli {

nlohmann::json file_json(const image::firmware_file& file);
nlohmann::json checks_json(const std::vector<image::check>& checks);

// "sha256" or "bootloader@0x00001000 checksum".
std::string check_label(const image::check& c);
// The detail with the scope in front: "bootloader@0x00001000: checksum 0x83 valid".
std::string check_line(const image::check& c);

// "esp32 image", "esp32 merged flash image", "partition table", with "gzip-compressed " in front.
std::string file_summary(const image::firmware_file& file);

}  // namespace otaflash::cli
