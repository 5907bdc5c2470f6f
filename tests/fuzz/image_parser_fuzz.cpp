// libFuzzer target for everything that reads untrusted firmware bytes: the image parser, the
// partition table reader and the whole-file analysis (merged files, gzip, signatures).
// Besides the sanitizers, it traps when a result contradicts the input it came from.

#include <otaflash/image/checks.hpp>
#include <otaflash/image/esp_image.hpp>
#include <otaflash/image/firmware_file.hpp>
#include <otaflash/image/partition_table.hpp>

#include <cstddef>
#include <cstdint>

namespace {

void require(bool condition) {
    if (!condition) __builtin_trap();
}

void check_bounds(const otaflash::image::image_info& im, std::size_t size) {
    require(im.size <= size);
    require(im.checksum_offset < im.size);
    require(im.segments.size() == im.segment_count);
    for (const auto& s : im.segments) require(s.data_offset + s.length <= im.checksum_offset);
    if (im.digest) require(im.digest->offset + 32 == im.size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const otaflash::byte_view bytes(data, size);

    if (auto im = otaflash::image::parse_image(bytes)) {
        check_bounds(*im, size);
        (void)otaflash::image::check_image(*im);
        (void)otaflash::image::flash_size_name(*im);
    }
    if (otaflash::image::starts_partition_table(bytes, 0))
        if (auto t = otaflash::image::parse_partition_table(bytes, 0)) (void)otaflash::image::check_partition_table(*t);

    otaflash::image::analyze_options options;
    options.expected_chip = otaflash::chip::esp32c3;
    options.max_inflated_size = 1u << 20;  // keep each run fast; the limit path is exercised too
    if (auto file = otaflash::image::analyze_firmware(bytes, options)) {
        for (const auto& e : file->images)
            if (e.image && !file->gzip) check_bounds(*e.image, size - e.offset);
        (void)file->ok();
    }
    return 0;
}
