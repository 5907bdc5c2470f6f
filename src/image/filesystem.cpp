#include <otaflash/image/filesystem.hpp>

#include <otaflash/util/hex.hpp>

#include <cstring>

namespace otaflash::image {
namespace {

// LittleFS keeps its superblock ("littlefs" after the revision count and the tag) in both
// blocks of the metadata pair 0/1; mklittlefs' block size is 4 KiB on ESP8266 and ESP32.
constexpr std::size_t littlefs_magic_offset = 8;
constexpr std::size_t littlefs_block = 4096;

// SPIFFS as mkspiffs lays it out for Arduino (256-byte pages): page 0 of a block is the object
// lookup table (u16 object ids; the index header's id has bit 15 set), page 1 the first file's
// index header: id, span index 0, flags, then at byte 8 the size, at 12 the type (1 = file) and
// at 13 the NUL-terminated name, "/…".
constexpr std::size_t spiffs_page = 256;
constexpr std::size_t spiffs_type_offset = 12;
constexpr std::size_t spiffs_name_offset = 13;
constexpr std::size_t spiffs_name_length = 32;

bool littlefs_at(byte_view data, std::size_t block) {
    const std::size_t at = block + littlefs_magic_offset;
    return data.size() >= at + 8 && std::memcmp(data.data() + at, "littlefs", 8) == 0;
}

bool spiffs(byte_view data) {
    if (data.size() < 2 * spiffs_page) return false;
    const std::uint16_t id = load_le16(data.data());
    if ((id & 0x8000) == 0 || id == 0xFFFF) return false;
    const std::uint8_t* header = data.data() + spiffs_page;
    if (load_le16(header) != id || load_le16(header + 2) != 0) return false;
    if (header[spiffs_type_offset] != 1 && header[spiffs_type_offset] != 2) return false;
    const std::uint8_t* name = header + spiffs_name_offset;
    if (name[0] != '/') return false;
    for (std::size_t i = 1; i < spiffs_name_length; ++i) {
        if (name[i] == 0) return true;
        if (name[i] < 0x20 || name[i] > 0x7E) return false;
    }
    return false;
}

bool fat(byte_view data) {
    return data.size() >= 512 && data[510] == 0x55 && data[511] == 0xAA &&
           (std::memcmp(data.data() + 0x36, "FAT", 3) == 0 || std::memcmp(data.data() + 0x52, "FAT", 3) == 0);
}

}  // namespace

std::optional<filesystem_info> detect_filesystem(byte_view data) {
    for (std::size_t block : {std::size_t{0}, littlefs_block})
        if (littlefs_at(data, block))
            return filesystem_info{filesystem_kind::littlefs, "LittleFS",
                                   "magic \"littlefs\" at offset " + hex_offset(block + littlefs_magic_offset)};
    if (spiffs(data))
        return filesystem_info{filesystem_kind::spiffs, "SPIFFS",
                               "object lookup table at offset 0x00000000, first file index at 0x00000100"};
    if (fat(data)) return filesystem_info{filesystem_kind::fat, "FAT", "boot sector at offset 0x00000000"};
    return std::nullopt;
}

}  // namespace otaflash::image
