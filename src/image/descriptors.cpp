#include "image/descriptors.hpp"

#include "image/image_reader.hpp"

#include <algorithm>

namespace otaflash::image::detail {
namespace {

constexpr std::size_t app_descriptor_size = 256;
constexpr std::size_t bootloader_descriptor_size = 80;

app_descriptor read_app(byte_view d) {
    app_descriptor app;
    app.secure_version = load_le32(d.data() + 0x04);
    app.version = printable_field(d.subspan(0x10, 32));
    app.project_name = printable_field(d.subspan(0x30, 32));
    app.time = printable_field(d.subspan(0x50, 16));
    app.date = printable_field(d.subspan(0x60, 16));
    app.idf_version = printable_field(d.subspan(0x70, 32));
    std::copy_n(d.data() + 0x90, app.elf_sha256.size(), app.elf_sha256.begin());
    app.min_efuse_blk_rev_full = load_le16(d.data() + 0xB0);
    app.max_efuse_blk_rev_full = load_le16(d.data() + 0xB2);
    app.mmu_page_size_log2 = d[0xB4];
    return app;
}

bootloader_descriptor read_bootloader(byte_view d) {
    bootloader_descriptor boot;
    boot.version = load_le32(d.data() + 0x04);
    boot.idf_version = printable_field(d.subspan(0x08, 32));
    boot.date_time = printable_field(d.subspan(0x28, 24));
    return boot;
}

}  // namespace

void read_descriptors(byte_view data, const chip_info& c, image_info& image) {
    if (image.segments.empty()) return;
    const segment& first = image.segments.front();
    const byte_view d = data.subspan(first.data_offset, first.length);
    if (d.size() >= app_descriptor_size && load_le32(d.data()) == app_descriptor_magic) {
        image.app = read_app(d);
        return;
    }
    // One magic byte is weak evidence, so the segment must also load into data RAM, as the
    // bootloader's .data (which holds the descriptor) does.
    const auto* region = find_region(c, first.load_address);
    const bool data_ram = c.map_quality == map_accuracy::unknown ||
                          (region && (region->kind == region_kind::dram || region->kind == region_kind::sram));
    if (d.size() >= bootloader_descriptor_size && d[0] == bootloader_descriptor_magic && data_ram)
        image.bootloader = read_bootloader(d);
}

}  // namespace otaflash::image::detail
