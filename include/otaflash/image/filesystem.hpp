#pragma once
// Filesystem images a build produces next to the firmware (PlatformIO/Arduino `buildfs`,
// mklittlefs, mkspiffs, FAT), told apart from firmware by their own structures, so that one sent
// as firmware (or firmware sent as a filesystem) is named before anything is sent.

#include <otaflash/util/bytes.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otaflash::image {

enum class filesystem_kind : std::uint8_t { littlefs, spiffs, fat };

struct filesystem_info {
    filesystem_kind kind;
    std::string_view name;  // "LittleFS", "SPIFFS", "FAT"
    std::string where;      // what gave it away: "magic \"littlefs\" at offset 0x00000008"
};

// nullopt when the bytes hold none of these (an empty SPIFFS, all 0xFF, is not recognisable).
std::optional<filesystem_info> detect_filesystem(byte_view data);

}  // namespace otaflash::image
