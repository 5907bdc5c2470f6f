#include <otaflash/image/partition_table.hpp>

#include "image/image_reader.hpp"

#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::image {
namespace {

constexpr std::uint8_t entry_magic[2] = {0xAA, 0x50};
constexpr std::uint8_t md5_magic[2] = {0xEB, 0xEB};
constexpr std::uint32_t app_alignment = 0x10000;

bool magic_at(byte_view data, std::size_t pos, const std::uint8_t (&magic)[2]) {
    return data[pos] == magic[0] && data[pos + 1] == magic[1];
}

}  // namespace

bool starts_partition_table(byte_view data, std::size_t offset) noexcept {
    return offset < data.size() && data.size() - offset >= partition_entry_size && magic_at(data, offset, entry_magic);
}

result<partition_table> parse_partition_table(byte_view data, std::size_t offset) {
    partition_table table;
    table.offset = offset;
    const std::size_t limit = std::min(data.size(), offset + partition_table_max_size);
    for (std::size_t pos = offset; pos + partition_entry_size <= limit; pos += partition_entry_size) {
        if (magic_at(data, pos, entry_magic)) {
            partition p;
            p.entry_offset = pos;
            p.type = data[pos + 2];
            p.subtype = data[pos + 3];
            p.offset = load_le32(data.data() + pos + 4);
            p.size = load_le32(data.data() + pos + 8);
            p.label = detail::printable_field(data.subspan(pos + 12, 16));
            p.flags = load_le32(data.data() + pos + 28);
            table.entries.push_back(std::move(p));
        } else if (magic_at(data, pos, md5_magic)) {
            partition_md5 md5;
            md5.offset = pos;
            std::copy_n(data.data() + pos + 16, md5.stored.size(), md5.stored.begin());
            md5.computed = otaflash::md5(data.subspan(offset, pos - offset));
            table.md5 = md5;
        } else if (data[pos] == 0xFF && data[pos + 1] == 0xFF) {
            break;
        } else {
            return make_failure(errc::image_malformed,
                                "partition table entry " + std::to_string((pos - offset) / partition_entry_size) +
                                    " at offset " + hex_offset(pos) + " starts with " + hex_digits(data[pos], 2) + " " +
                                    hex_digits(data[pos + 1], 2) + ", not AA 50 (entry), EB EB (MD5) or FF FF (end)",
                                "the partition table is corrupt: regenerate it with gen_esp32part / idf.py");
        }
    }
    if (table.entries.empty())
        return make_failure(errc::image_malformed, "partition table at offset " + hex_offset(offset) + " has no entries",
                            "regenerate it with gen_esp32part / idf.py");
    return table;
}

std::string partition_type_name(std::uint8_t type) {
    switch (type) {
    case 0x00: return "app";
    case 0x01: return "data";
    case 0x02: return "bootloader";
    case 0x03: return "partition_table";
    default: return hex_digits(type, 2);
    }
}

std::string partition_subtype_name(std::uint8_t type, std::uint8_t subtype) {
    if (type == partition_app) {
        if (subtype == 0x00) return "factory";
        if (subtype >= 0x10 && subtype <= 0x1F) return "ota_" + std::to_string(subtype - 0x10);
        if (subtype == 0x20) return "test";
    } else if (type == partition_data) {
        switch (subtype) {
        case 0x00: return "ota";
        case 0x01: return "phy";
        case 0x02: return "nvs";
        case 0x03: return "coredump";
        case 0x04: return "nvs_keys";
        case 0x05: return "efuse";
        case 0x06: return "undefined";
        case 0x80: return "esphttpd";
        case 0x81: return "fat";
        case 0x82: return "spiffs";
        case 0x83: return "littlefs";
        default: break;
        }
    } else if (type == 0x02 || type == 0x03) {
        if (subtype == 0x00) return "primary";
        if (subtype == 0x01) return "ota";
        if (subtype == 0x02 && type == 0x02) return "recovery";
    }
    return hex_digits(subtype, 2);
}

std::string partition_flags_text(std::uint32_t flags) {
    std::string out;
    if (flags & 1u) out = "encrypted";
    if (flags & 2u) out += out.empty() ? "readonly" : ", readonly";
    return out;
}

std::vector<check> check_partition_table(const partition_table& table) {
    std::vector<check> out;
    const std::string scope = "partition_table@" + hex_offset(table.offset);
    if (const auto& m = table.md5)
        out.push_back(compare_stored("partition_table_md5", scope, "partition table MD5", m->offset, to_hex(m->stored),
                                     to_hex(m->computed),
                                     "the partition table was edited after it was generated: regenerate it"));

    check layout{"partition_layout", scope, true, {}, {}, errc::image_check_failed};
    auto fail = [&](std::string why) {
        if (!layout.ok) return;
        layout.ok = false;
        layout.detail = std::move(why);
        layout.hint = "fix the partition CSV and regenerate the table";
    };
    const auto& e = table.entries;
    for (std::size_t i = 0; i < e.size(); ++i) {
        if (e[i].type == partition_app && e[i].offset % app_alignment != 0)
            fail("app partition '" + e[i].label + "' at " + hex32(e[i].offset) + " is not on a 64 KiB boundary");
        if (e[i].type > partition_data) continue;
        for (std::size_t j = i + 1; j < e.size(); ++j) {
            if (e[j].type > partition_data) continue;
            const std::uint64_t a0 = e[i].offset, a1 = a0 + e[i].size, b0 = e[j].offset, b1 = b0 + e[j].size;
            if (a0 < b1 && b0 < a1)
                fail("partitions '" + e[i].label + "' and '" + e[j].label + "' overlap");
        }
    }
    if (layout.ok) layout.detail = std::to_string(e.size()) + " partitions, no overlaps, apps 64 KiB aligned";
    out.push_back(std::move(layout));
    return out;
}

}  // namespace otaflash::image
