#pragma once
// Builds valid ESP images, partition tables and merged flash files for tests, for any chip of the
// table, so that every error branch can be reached by changing one thing in a known-good file.

#include <otaflash/chip/chip.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::test {

struct segment_spec {
    std::uint32_t load_address = 0;
    bytes data;
};

struct app_desc_spec {
    std::uint32_t secure_version = 0;
    std::string version = "1.0.0";
    std::string project_name = "hello";
    std::string time = "12:34:56";
    std::string date = "Jan  1 2026";
    std::string idf_version = "v5.3.1";
    std::uint8_t elf_sha256_fill = 0xA5;  // every byte of the ELF SHA-256 field
    std::uint16_t min_efuse_blk_rev_full = 0;
    std::uint16_t max_efuse_blk_rev_full = 199;
    std::uint8_t mmu_page_size_log2 = 16;
};

struct bootloader_desc_spec {
    std::uint32_t version = 1;
    std::string idf_version = "v5.2.2";
    std::string date_time = "Jan  1 2026 12:34:56";
};

struct image_spec {
    chip target = chip::esp32;
    std::uint8_t flash_mode = 2;        // DIO
    std::uint8_t flash_size_freq = 0x20;
    std::optional<std::uint32_t> entry;  // default: the executable segment's address
    std::vector<segment_spec> segments;  // default: one data-RAM and one executable-RAM segment
    bool append_digest = true;           // ignored for ESP8266 (v1 has no extended header)
    std::uint8_t wp_pin = 0xEE;
    std::uint16_t min_rev_full = 0, max_rev_full = 0xFFFF;
    std::optional<app_desc_spec> app;            // first segment, in flash-mapped data
    std::optional<bootloader_desc_spec> bootloader;  // first segment, in data RAM
};

// A data-RAM and an executable-RAM address of the chip, from its memory map.
std::uint32_t data_ram_address(chip c);
std::uint32_t code_ram_address(chip c);
std::uint32_t flash_data_address(chip c);

bytes build_image(const image_spec& spec);

// A valid app image of about `size` bytes (4 KiB .. 64 MiB) for an ESP32-family chip: app
// descriptor (`version`), flash-mapped data and code segments of pseudo-random bytes from `seed`.
bytes build_sized_app(chip target, std::size_t size, const std::string& version = "1.0.0", unsigned seed = 2026);

// ESP8266 v2: 0xEA header, irom segment, v1 image, CRC-32.
bytes build_esp8266_v2(const bytes& irom, const std::vector<segment_spec>& ram_segments, std::uint32_t entry);

struct partition_spec {
    std::string label;
    std::uint8_t type = 0, subtype = 0;
    std::uint32_t offset = 0, size = 0;
    std::uint32_t flags = 0;
};

// Entries, an optional MD5 entry, then 0xFF to 0xC00 bytes.
bytes build_partition_table(const std::vector<partition_spec>& parts, bool with_md5 = true);

// A typical ESP-IDF layout: nvs, phy_init, factory app at 0x10000 sized to `app_size`.
std::vector<partition_spec> default_partitions(std::uint32_t app_size = 0x100000);

// Bootloader at the chip's offset, the table at 0x8000, each (offset, bytes) placed, 0xFF between.
bytes build_merged(chip target, const bytes& bootloader, const bytes& table,
                   const std::vector<std::pair<std::uint32_t, bytes>>& parts);

// `gzip -9` of the data (zlib's deflate with the gzip wrapper).
bytes gzip_compress(byte_view data);

void store_le32(bytes& data, std::size_t offset, std::uint32_t value);
void store_le16(bytes& data, std::size_t offset, std::uint16_t value);

}  // namespace otaflash::test
