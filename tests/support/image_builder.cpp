#include "image_builder.hpp"

#include <otaflash/crypto/digest.hpp>

#include <zlib.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace otaflash::test {
namespace {

std::uint32_t first_region(chip c, std::initializer_list<region_kind> kinds, std::uint32_t fallback) {
    for (const auto& r : info(c).memory_map)
        if (std::find(kinds.begin(), kinds.end(), r.kind) != kinds.end()) return r.start;
    return fallback;
}

void put_string(bytes& out, std::size_t offset, const std::string& text, std::size_t field) {
    std::copy_n(text.begin(), std::min(text.size(), field - 1), out.begin() + static_cast<std::ptrdiff_t>(offset));
}

bytes app_descriptor_bytes(const app_desc_spec& a) {
    bytes d(256, 0);
    store_le32(d, 0x00, 0xABCD5432);
    store_le32(d, 0x04, a.secure_version);
    put_string(d, 0x10, a.version, 32);
    put_string(d, 0x30, a.project_name, 32);
    put_string(d, 0x50, a.time, 16);
    put_string(d, 0x60, a.date, 16);
    put_string(d, 0x70, a.idf_version, 32);
    std::fill_n(d.begin() + 0x90, 32, a.elf_sha256_fill);
    store_le16(d, 0xB0, a.min_efuse_blk_rev_full);
    store_le16(d, 0xB2, a.max_efuse_blk_rev_full);
    d[0xB4] = a.mmu_page_size_log2;
    return d;
}

bytes bootloader_descriptor_bytes(const bootloader_desc_spec& b) {
    bytes d(80, 0);
    d[0] = 0x50;
    store_le32(d, 0x04, b.version);
    put_string(d, 0x08, b.idf_version, 32);
    put_string(d, 0x28, b.date_time, 24);
    return d;
}

bytes pattern(std::size_t n, std::uint8_t seed) {
    bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
    return b;
}

void append_segments(bytes& out, const std::vector<segment_spec>& segments, std::uint8_t& checksum) {
    for (const auto& s : segments) {
        append_le32(out, s.load_address);
        append_le32(out, static_cast<std::uint32_t>(s.data.size()));
        out.insert(out.end(), s.data.begin(), s.data.end());
        for (auto b : s.data) checksum ^= b;
    }
}

void append_checksum(bytes& out, std::uint8_t checksum) {
    while (out.size() % 16 != 15) out.push_back(0);
    out.push_back(checksum);
}

}  // namespace

void store_le32(bytes& data, std::size_t offset, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) data.at(offset + static_cast<std::size_t>(i)) = static_cast<std::uint8_t>(value >> (8 * i));
}
void store_le16(bytes& data, std::size_t offset, std::uint16_t value) {
    data.at(offset) = static_cast<std::uint8_t>(value);
    data.at(offset + 1) = static_cast<std::uint8_t>(value >> 8);
}

std::uint32_t data_ram_address(chip c) { return first_region(c, {region_kind::dram, region_kind::sram}, 0x40800000); }
std::uint32_t code_ram_address(chip c) { return first_region(c, {region_kind::iram, region_kind::sram}, 0x40800000); }
std::uint32_t flash_data_address(chip c) {
    return first_region(c, {region_kind::drom, region_kind::flash}, 0x42000000) + 0x20;
}

bytes build_image(const image_spec& spec) {
    std::vector<segment_spec> segments;
    if (spec.app) {
        bytes d = app_descriptor_bytes(*spec.app);
        bytes more = pattern(64, 0x11);
        d.insert(d.end(), more.begin(), more.end());
        segments.push_back({flash_data_address(spec.target), std::move(d)});
    }
    if (spec.bootloader) {
        bytes d = bootloader_descriptor_bytes(*spec.bootloader);
        bytes more = pattern(16, 0x22);
        d.insert(d.end(), more.begin(), more.end());
        segments.push_back({data_ram_address(spec.target), std::move(d)});
    }
    if (spec.segments.empty()) {
        if (!spec.bootloader) segments.push_back({data_ram_address(spec.target) + 0x100, pattern(32, 0x33)});
        segments.push_back({code_ram_address(spec.target) + 0x100, pattern(48, 0x44)});
    } else {
        segments.insert(segments.end(), spec.segments.begin(), spec.segments.end());
    }
    if (segments.size() > 255) throw std::invalid_argument("too many segments for one header byte");

    const bool esp8266 = spec.target == chip::esp8266;
    bytes out;
    out.push_back(0xE9);
    out.push_back(static_cast<std::uint8_t>(segments.size()));
    out.push_back(spec.flash_mode);
    out.push_back(spec.flash_size_freq);
    append_le32(out, spec.entry.value_or(code_ram_address(spec.target) + 0x100));
    if (!esp8266) {
        out.push_back(spec.wp_pin);
        out.insert(out.end(), {0, 0, 0});
        append_le16(out, *info(spec.target).image_chip_id);
        out.push_back(0);  // legacy min_rev
        append_le16(out, spec.min_rev_full);
        append_le16(out, spec.max_rev_full);
        out.insert(out.end(), {0, 0, 0, 0});
        out.push_back(spec.append_digest ? 1 : 0);
    }
    std::uint8_t checksum = 0xEF;
    append_segments(out, segments, checksum);
    append_checksum(out, checksum);
    if (!esp8266 && spec.append_digest) {
        const auto digest = sha256(out);
        out.insert(out.end(), digest.begin(), digest.end());
    }
    return out;
}

bytes build_esp8266_v2(const bytes& irom, const std::vector<segment_spec>& ram_segments, std::uint32_t entry) {
    bytes out{0xEA, 0x04, 0x00, 0x40};
    append_le32(out, entry);
    bytes padded = irom;
    while (padded.size() % 16 != 0) padded.push_back(0);
    append_le32(out, 0);
    append_le32(out, static_cast<std::uint32_t>(padded.size()));
    out.insert(out.end(), padded.begin(), padded.end());
    out.push_back(0xE9);
    out.push_back(static_cast<std::uint8_t>(ram_segments.size()));
    out.push_back(0x00);
    out.push_back(0x40);
    append_le32(out, entry);
    std::uint8_t checksum = 0xEF;
    append_segments(out, ram_segments, checksum);
    append_checksum(out, checksum);
    // CRC-32 (IEEE, reflected, init and final XOR all ones), bit by bit: an independent
    // implementation of what the parser gets from zlib.
    std::uint32_t crc = 0xFFFFFFFFu;
    for (auto b : out) {
        crc ^= b;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    crc ^= 0xFFFFFFFFu;
    crc = (crc & 0x80000000u) ? crc ^ 0xFFFFFFFFu : crc + 1;
    append_le32(out, crc);
    return out;
}

bytes build_partition_table(const std::vector<partition_spec>& parts, bool with_md5) {
    bytes out;
    for (const auto& p : parts) {
        out.insert(out.end(), {0xAA, 0x50, p.type, p.subtype});
        append_le32(out, p.offset);
        append_le32(out, p.size);
        bytes label(16, 0);
        std::copy_n(p.label.begin(), std::min<std::size_t>(p.label.size(), 16), label.begin());
        out.insert(out.end(), label.begin(), label.end());
        append_le32(out, p.flags);
    }
    if (with_md5) {
        const auto digest = md5(out);
        out.insert(out.end(), {0xEB, 0xEB});
        out.insert(out.end(), 14, 0xFF);
        out.insert(out.end(), digest.begin(), digest.end());
    }
    out.resize(0xC00, 0xFF);
    return out;
}

std::vector<partition_spec> default_partitions(std::uint32_t app_size) {
    return {{"nvs", 0x01, 0x02, 0x9000, 0x6000, 0},
            {"phy_init", 0x01, 0x01, 0xF000, 0x1000, 0},
            {"factory", 0x00, 0x00, 0x10000, app_size, 0}};
}

bytes build_merged(chip target, const bytes& bootloader, const bytes& table,
                   const std::vector<std::pair<std::uint32_t, bytes>>& parts) {
    const std::size_t boot = info(target).bootloader_offset;
    std::size_t end = std::max<std::size_t>(boot + bootloader.size(), 0x8000 + table.size());
    for (const auto& [offset, data] : parts) end = std::max<std::size_t>(end, offset + data.size());
    bytes out(end, 0xFF);
    auto place = [&out](std::size_t offset, const bytes& data) {
        std::copy(data.begin(), data.end(), out.begin() + static_cast<std::ptrdiff_t>(offset));
    };
    place(boot, bootloader);
    place(0x8000, table);
    for (const auto& [offset, data] : parts) place(offset, data);
    return out;
}

bytes gzip_compress(byte_view data) {
    z_stream s{};
    if (deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    bytes out(deflateBound(&s, static_cast<uLong>(data.size())) + 32);
    s.next_in = const_cast<Bytef*>(data.data());
    s.avail_in = static_cast<uInt>(data.size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&s, Z_FINISH);
    deflateEnd(&s);
    if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
    out.resize(s.total_out);
    return out;
}

bytes build_sized_app(chip target, std::size_t size, const std::string& version, unsigned seed) {
    const chip_info& c = info(target);
    std::uint32_t irom = 0, drom = 0;
    for (const auto& r : c.memory_map) {
        if (!irom && (r.kind == region_kind::irom || r.kind == region_kind::flash)) irom = r.start;
        if (!drom && (r.kind == region_kind::drom || r.kind == region_kind::flash)) drom = r.start;
    }
    // Two flash segments share what is left after headers, descriptor, RAM code and trailer.
    const auto half = ((size - 1024) / 2) & ~std::size_t{3};
    std::mt19937 rng(seed);
    bytes data(half), code(half);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    for (auto& b : code) b = static_cast<std::uint8_t>(rng());
    image_spec spec;
    spec.target = target;
    spec.app = app_desc_spec{};
    spec.app->version = version;
    spec.segments = {{drom + 0x10000, std::move(data)},
                     {irom + 0x20, std::move(code)},
                     {code_ram_address(target) + 0x100, bytes(256, 0x11)}};
    spec.entry = code_ram_address(target) + 0x100;
    return build_image(spec);
}

}  // namespace otaflash::test
