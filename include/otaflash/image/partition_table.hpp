#pragma once
// The ESP-IDF partition table (rom-bootloader.md §7): 32-byte entries starting AA 50, an optional
// MD5 entry (EB EB, 14 × FF, MD5 of the entries before it), ended by FF FF.

#include <otaflash/crypto/digest.hpp>
#include <otaflash/image/checks.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::image {

inline constexpr std::uint32_t default_partition_table_offset = 0x8000;
inline constexpr std::size_t partition_table_max_size = 0xC00;  // 96 entries
inline constexpr std::size_t partition_entry_size = 32;

enum partition_type : std::uint8_t { partition_app = 0x00, partition_data = 0x01 };

struct partition {
    std::size_t entry_offset = 0;  // of the 32-byte entry in the file
    std::uint8_t type = 0, subtype = 0;
    std::uint32_t offset = 0, size = 0;
    std::string label;
    std::uint32_t flags = 0;  // bit 0 encrypted, bit 1 readonly
};

struct partition_md5 {
    std::size_t offset = 0;  // of the MD5 entry
    md5_digest stored{}, computed{};
    bool ok() const noexcept { return stored == computed; }
};

struct partition_table {
    std::size_t offset = 0;  // of the first entry in the file
    std::vector<partition> entries;
    std::optional<partition_md5> md5;
};

bool starts_partition_table(byte_view data, std::size_t offset) noexcept;

// Reads entries from `offset` until FF FF, the end of the data, or 0xC00 bytes.
result<partition_table> parse_partition_table(byte_view data, std::size_t offset);

std::string partition_type_name(std::uint8_t type);
std::string partition_subtype_name(std::uint8_t type, std::uint8_t subtype);
std::string partition_flags_text(std::uint32_t flags);  // "encrypted, readonly" or ""

// MD5 entry (when present) and layout: app partitions on 64 KiB boundaries, no two app/data
// partitions overlapping.
std::vector<check> check_partition_table(const partition_table& table);

}  // namespace otaflash::image
