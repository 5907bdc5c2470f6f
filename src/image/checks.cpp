#include <otaflash/image/checks.hpp>

#include <otaflash/util/hex.hpp>

namespace otaflash::image {
namespace {

constexpr std::uint32_t sixteen_mib = 16u << 20;
constexpr const char* rebuild_hint = "the file changed after it was built: rebuild it or copy it again";

check checksum_check(const image_info& image, const std::string& scope) {
    check c{"checksum", scope, image.checksum_ok(), {}, {}, errc::image_check_failed};
    if (c.ok) {
        c.detail = "checksum " + hex_digits(image.checksum_stored, 2) + " valid";
    } else {
        c.detail = "checksum mismatch at offset " + hex32(static_cast<std::uint32_t>(image.checksum_offset)) +
                   " (stored " + hex_digits(image.checksum_stored, 2) + ", computed " +
                   hex_digits(image.checksum_computed, 2) + ")";
        c.hint = rebuild_hint;
    }
    return c;
}

check digest_check(const digest_field& digest, const std::string& scope) {
    check c{"sha256", scope, digest.ok(), {}, {}, errc::image_check_failed};
    if (c.ok) {
        c.detail = "SHA-256 digest " + to_hex(digest.stored) + " valid";
    } else {
        c.detail = "SHA-256 digest mismatch at offset " + hex32(static_cast<std::uint32_t>(digest.offset)) +
                   " (stored " + to_hex(digest.stored) + ", computed " + to_hex(digest.computed) + ")";
        c.hint = rebuild_hint;
    }
    return c;
}

check crc_check(const crc_field& crc, const std::string& scope) {
    check c{"crc32", scope, crc.ok(), {}, {}, errc::image_check_failed};
    if (c.ok) {
        c.detail = "CRC-32 " + hex32(crc.stored) + " valid";
    } else {
        c.detail = "CRC-32 mismatch at offset " + hex32(static_cast<std::uint32_t>(crc.offset)) + " (stored " +
                   hex32(crc.stored) + ", computed " + hex32(crc.computed) + ")";
        c.hint = rebuild_hint;
    }
    return c;
}

// The ESP-IDF bootloader refuses such segments (esp_image_format.c "invalid segment length").
check segment_length_check(const image_info& image, const std::string& scope) {
    check c{"segment_lengths", scope, true, {}, {}, errc::image_check_failed};
    for (std::size_t i = 0; i < image.segments.size(); ++i) {
        const auto& s = image.segments[i];
        if (s.length % 4 != 0 || s.length >= sixteen_mib) {
            c.ok = false;
            c.detail = "segment " + std::to_string(i) + " at offset " +
                       hex32(static_cast<std::uint32_t>(s.header_offset)) + " has length " + hex32(s.length) +
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

std::vector<check> check_image(const image_info& image, const std::string& scope) {
    std::vector<check> out;
    out.push_back(checksum_check(image, scope));
    if (image.digest) out.push_back(digest_check(*image.digest, scope));
    if (image.crc32) out.push_back(crc_check(*image.crc32, scope));
    if (image.format == image_format::esp32 || image.format == image_format::esp8266_v3)
        out.push_back(segment_length_check(image, scope));
    return out;
}

}  // namespace otaflash::image
