#include "image/esp8266_v2.hpp"

#include "image/image_reader.hpp"

#include <otaflash/util/crc32.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::image::detail {
namespace {
constexpr std::size_t crc_size = 4;
}  // namespace

std::uint32_t esp8266_v2_crc(byte_view data) noexcept {
    const std::uint32_t crc = crc32(data);
    return (crc & 0x80000000u) ? crc ^ 0xFFFFFFFFu : crc + 1;
}

result<image_info> read_esp8266_v2(byte_view data) {
    const chip_info& esp8266 = info(chip::esp8266);
    if (data.size() < common_header_size + segment_header_size)
        return make_failure(errc::image_malformed,
                            "header truncated: the file is " + std::to_string(data.size()) +
                                " bytes, an ESP8266 v2 image begins with 16 bytes of headers",
                            "the file is incomplete: copy or download it again");
    image_info image;
    image.format = image_format::esp8266_v2;
    image.target = chip::esp8266;
    image.detection = "first byte 0xea (ESP8266 v2 image)";

    segment irom;
    irom.header_offset = common_header_size;
    irom.load_address = load_le32(data.data() + 8);
    irom.length = load_le32(data.data() + 12);
    irom.data_offset = common_header_size + segment_header_size;
    irom.region = "IROM";
    if (irom.length > data.size() - irom.data_offset)
        return make_failure(errc::image_malformed,
                            "irom segment at offset 0x00000008: length " + hex32(irom.length) +
                                " runs past the end of the file (" + std::to_string(data.size() - irom.data_offset) +
                                " bytes left after offset 0x00000010)",
                            "the file is truncated or not an ESP image");
    image.irom = irom;

    const std::size_t second = irom.data_offset + irom.length;
    if (data.size() - second < common_header_size)
        return make_failure(errc::image_malformed,
                            "second header at offset " + hex_offset(second) + " is truncated: the file ends at " +
                                hex_offset(data.size()),
                            "the file is truncated: copy or download it again");
    if (data[second] != esp_image_magic)
        return make_failure(errc::image_malformed,
                            "second header at offset " + hex_offset(second) + " starts with " +
                                hex_digits(data[second], 2) + ", expected 0xe9",
                            "the irom segment length is wrong or the file is corrupt");
    // The loader uses the second header's values (the first one only has to agree).
    image.segment_count = data[second + 1];
    image.flash_mode = data[second + 2];
    image.flash_size_code = data[second + 3] >> 4;
    image.flash_freq_code = data[second + 3] & 0x0F;
    image.entry = load_le32(data.data() + second + 4);
    if (image.segment_count == 0 || image.segment_count > max_segments)
        return make_failure(errc::image_malformed,
                            "segment count " + std::to_string(image.segment_count) + " at offset " +
                                hex_offset(second + 1) + " is out of range (1 to 16)",
                            "the header is corrupt, or this is not an ESP image");

    std::uint8_t checksum = esp_checksum_seed;
    auto end = read_segments(data, second + common_header_size, image.segment_count, esp8266, image.segments, checksum);
    if (!end) return std::move(end).error();
    image.checksum_offset = checksum_offset_after(*end);
    image.checksum_computed = checksum;
    if (image.checksum_offset >= data.size() || data.size() - image.checksum_offset < 1 + crc_size)
        return make_failure(errc::image_malformed,
                            "checksum byte and CRC-32 at offset " + hex_offset(image.checksum_offset) +
                                " are missing: the file ends at " + hex_offset(data.size()),
                            "the file is truncated: copy or download it again");
    image.checksum_stored = data[image.checksum_offset];
    crc_field crc;
    crc.offset = image.checksum_offset + 1;
    crc.stored = load_le32(data.data() + crc.offset);
    crc.computed = esp8266_v2_crc(data.first(crc.offset));
    image.crc32 = crc;
    image.size = crc.offset + crc_size;
    return image;
}

}  // namespace otaflash::image::detail
