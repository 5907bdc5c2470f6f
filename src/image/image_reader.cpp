#include "image/image_reader.hpp"

#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::image::detail {

std::string printable_field(byte_view field) {
    auto end = std::find(field.begin(), field.end(), std::uint8_t{0});
    std::string out(field.begin(), end);
    for (auto& ch : out)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) ch = '?';
    return out;
}

result<std::size_t> read_segments(byte_view data, std::size_t offset, std::size_t count, const chip_info& map,
                                  std::vector<segment>& out, std::uint8_t& checksum) {
    out.reserve(out.size() + count);
    for (std::size_t i = 0; i < count; ++i) {
        if (data.size() - offset < segment_header_size)
            return make_failure(errc::image_malformed,
                                "segment " + std::to_string(i) + " header at offset " + hex_offset(offset) +
                                    " is truncated: the file ends at " + hex_offset(data.size()),
                                "the file is incomplete: copy or download it again");
        segment s;
        s.header_offset = offset;
        s.load_address = load_le32(data.data() + offset);
        s.length = load_le32(data.data() + offset + 4);
        s.data_offset = offset + segment_header_size;
        // Compared as a difference so that a length near 4 GiB cannot wrap around.
        if (s.length > data.size() - s.data_offset)
            return make_failure(errc::image_malformed,
                                "segment " + std::to_string(i) + " at offset " + hex_offset(offset) + ": length " +
                                    hex32(s.length) + " runs past the end of the file (" +
                                    std::to_string(data.size() - s.data_offset) + " bytes left after offset " +
                                    hex_offset(s.data_offset) + ")",
                                "the file is truncated or not an ESP image");
        if (const auto* r = find_region(map, s.load_address)) s.region = r->name;
        checksum = esp_checksum(data.subspan(s.data_offset, s.length), checksum);
        offset = s.data_offset + s.length;
        out.push_back(s);
    }
    return offset;
}

bool addresses_fit(const image_info& image, const chip_info& c) noexcept {
    if (c.map_quality == map_accuracy::unknown) return true;
    for (const auto& s : image.segments)
        if (!find_region(c, s.load_address)) return false;
    const auto* entry = find_region(c, image.entry);
    return entry && is_executable_ram(entry->kind);
}

}  // namespace otaflash::image::detail
