#include <otaflash/image/checks.hpp>

#include <otaflash/util/hex.hpp>

namespace otaflash::image {
namespace {

constexpr std::uint32_t sixteen_mib = 16u << 20;
constexpr const char* rebuild_hint = "the file changed after it was built: rebuild it or copy it again";

// The ESP-IDF bootloader refuses such segments (esp_image_format.c "invalid segment length").
check segment_length_check(const image_info& image, const std::string& scope) {
    check c{"segment_lengths", scope, true, {}, {}, errc::image_check_failed};
    for (std::size_t i = 0; i < image.segments.size(); ++i) {
        const auto& s = image.segments[i];
        if (s.length % 4 != 0 || s.length >= sixteen_mib) {
            c.ok = false;
            c.detail = "segment " + std::to_string(i) + " at offset " +
                       hex_offset(s.header_offset) + " has length " + hex32(s.length) +
                       (s.length % 4 != 0 ? ", not a multiple of 4" : ", 16 MiB or more") +
                       " (the bootloader rejects it)";
            c.hint = "rebuild the image with esptool elf2image / ESP-IDF";
            return c;
        }
    }
    c.detail = "all " + std::to_string(image.segments.size()) + " segment lengths are multiples of 4 below 16 MiB";
    return c;
}

}  // namespace

check compare_stored(std::string name, std::string scope, std::string_view what, std::size_t offset,
                     std::string stored, std::string computed, std::string hint) {
    check c{std::move(name), std::move(scope), stored == computed, {}, {}, errc::image_check_failed};
    if (c.ok) {
        c.detail = std::string{what} + " " + stored + " valid";
    } else {
        c.detail = std::string{what} + " mismatch at offset " + hex_offset(offset) + " (stored " + stored +
                   ", computed " + computed + ")";
        c.hint = std::move(hint);
    }
    return c;
}

std::vector<check> check_image(const image_info& image, const std::string& scope) {
    std::vector<check> out;
    out.push_back(compare_stored("checksum", scope, "checksum", image.checksum_offset,
                                 hex_digits(image.checksum_stored, 2), hex_digits(image.checksum_computed, 2),
                                 rebuild_hint));
    if (const auto& d = image.digest)
        out.push_back(compare_stored("sha256", scope, "SHA-256 digest", d->offset, to_hex(d->stored),
                                     to_hex(d->computed), rebuild_hint));
    if (const auto& crc = image.crc32)
        out.push_back(compare_stored("crc32", scope, "CRC-32", crc->offset, hex32(crc->stored), hex32(crc->computed),
                                     rebuild_hint));
    if (image.format == image_format::esp32 || image.format == image_format::esp8266_v3)
        out.push_back(segment_length_check(image, scope));
    return out;
}

}  // namespace otaflash::image
