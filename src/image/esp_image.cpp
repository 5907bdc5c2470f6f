#include <otaflash/image/esp_image.hpp>

#include "image/descriptors.hpp"
#include "image/esp8266_v2.hpp"
#include "image/image_reader.hpp"

#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::image {
namespace {
using namespace detail;

constexpr std::size_t ext_offset = common_header_size;                        // 8
constexpr std::size_t ext_reserved_offset = ext_offset + 11;                  // 19
constexpr std::size_t family_first_segment = ext_offset + extended_header_size;  // 24
constexpr std::size_t sha256_size = 32;

extended_header read_extended_header(byte_view data) {
    const std::uint8_t* p = data.data() + ext_offset;
    extended_header h;
    h.wp_pin = p[0];
    h.clk_drv = p[1] & 0x0F;
    h.q_drv = p[1] >> 4;
    h.d_drv = p[2] & 0x0F;
    h.cs_drv = p[2] >> 4;
    h.hd_drv = p[3] & 0x0F;
    h.wp_drv = p[3] >> 4;
    h.chip_id = load_le16(p + 4);
    h.min_rev = p[6];
    h.min_rev_full = load_le16(p + 7);
    h.max_rev_full = load_le16(p + 9);
    h.hash_appended = p[15];
    return h;
}

bool reserved_bytes_zero(byte_view data) {
    const std::uint8_t* p = data.data() + ext_reserved_offset;
    return (p[0] | p[1] | p[2] | p[3]) == 0;
}

// ESP8266_RTOS_SDK v3 writes the extended header as zeros plus the hash flag.
bool rtos_sdk_shape(const extended_header& h) {
    return h.wp_pin == 0 && h.clk_drv == 0 && h.q_drv == 0 && h.d_drv == 0 && h.cs_drv == 0 && h.hd_drv == 0 &&
           h.wp_drv == 0 && h.chip_id == 0 && h.min_rev == 0 && h.min_rev_full == 0 && h.max_rev_full == 0;
}

// Reads the bytes as one format for one chip. `format` is esp8266_v1, esp8266_v3 or esp32.
result<image_info> read_as(byte_view data, image_format format, const chip_info& c) {
    image_info image;
    image.format = format;
    image.target = c.id;
    image.segment_count = data[1];
    image.flash_mode = data[2];
    image.flash_size_code = data[3] >> 4;
    image.flash_freq_code = data[3] & 0x0F;
    image.entry = load_le32(data.data() + 4);

    if (image.segment_count == 0 || image.segment_count > max_segments)
        return make_failure(errc::image_malformed,
                            "segment count " + std::to_string(image.segment_count) +
                                " at offset 0x00000001 is out of range (1 to 16)",
                            "the header is corrupt, or this is not an ESP image");

    std::size_t first = common_header_size;
    if (format != image_format::esp8266_v1) {
        image.ext = read_extended_header(data);
        first = family_first_segment;
    }
    std::uint8_t checksum = esp_checksum_seed;
    auto end = read_segments(data, first, image.segment_count, c, image.segments, checksum);
    if (!end) return std::move(end).error();

    image.checksum_offset = checksum_offset_after(*end);
    image.checksum_computed = checksum;
    if (image.checksum_offset >= data.size())
        return make_failure(errc::image_malformed,
                            "checksum byte at offset " + hex_offset(image.checksum_offset) +
                                " is missing: the file ends at " + hex_offset(data.size()),
                            "the file is truncated: copy or download it again");
    image.checksum_stored = data[image.checksum_offset];
    image.size = image.checksum_offset + 1;

    if (image.ext && image.ext->hash_appended == 1) {
        if (data.size() - image.size < sha256_size)
            return make_failure(errc::image_malformed,
                                "SHA-256 digest at offset " + hex_offset(image.size) +
                                    " is truncated: 32 bytes expected, " + std::to_string(data.size() - image.size) +
                                    " present",
                                "the file is truncated: copy or download it again");
        digest_field digest;
        digest.offset = image.size;
        digest.computed = sha256(data.first(image.size));
        std::copy_n(data.data() + image.size, sha256_size, digest.stored.begin());
        image.digest = digest;
        image.size += sha256_size;
    }
    if (format != image_format::esp8266_v1) read_descriptors(data, c, image);
    return image;
}

std::string chip_id_text(std::uint16_t id) { return std::to_string(id) + " (" + hex_digits(id, 4) + ")"; }

result<image_info> detect_and_read(byte_view data) {
    const chip_info& esp8266 = info(chip::esp8266);
    const extended_header ext = read_extended_header(data);
    const bool shape_ok = ext.hash_appended <= 1 && reserved_bytes_zero(data);
    const chip_id_match id = find_chip_by_id(ext.chip_id);

    auto decided = [](result<image_info> r, std::string how) {
        if (r) r->detection = std::move(how);
        return r;
    };

    if (shape_ok && id.status == chip_id_status::known) {
        auto family = read_as(data, image_format::esp32, *id.chip);
        if (family && addresses_fit(*family, *id.chip))
            return decided(std::move(family), "extended header chip id " + chip_id_text(ext.chip_id) + " at offset 12");
        if (id.chip->id == chip::esp32 && rtos_sdk_shape(ext)) {
            auto v3 = read_as(data, image_format::esp8266_v3, esp8266);
            if (v3 && addresses_fit(*v3, esp8266))
                return decided(std::move(v3),
                               "all-zero extended header (ESP8266_RTOS_SDK v3) and ESP8266 load addresses");
        }
        auto v1 = read_as(data, image_format::esp8266_v1, esp8266);
        if (v1 && addresses_fit(*v1, esp8266))
            return decided(std::move(v1), "no extended header: segments load into ESP8266 memory");
        // Our maps of the newest chips are approximate: a misfit alone does not overrule the id.
        return decided(std::move(family), "extended header chip id " + chip_id_text(ext.chip_id) +
                                              " at offset 12 (load addresses outside the known memory map)");
    }

    auto v1 = read_as(data, image_format::esp8266_v1, esp8266);
    if (v1 && addresses_fit(*v1, esp8266))
        return decided(std::move(v1), "no extended header: segments load into ESP8266 memory");
    if (shape_ok && id.status == chip_id_status::retired)
        return make_failure(errc::image_malformed,
                            "chip id " + chip_id_text(ext.chip_id) + " at offset 12 is the " +
                                std::string{id.retired_name} + ", a retired pre-production chip",
                            "rebuild the firmware with a current ESP-IDF for a production chip");
    if (shape_ok && id.status == chip_id_status::unknown)
        return make_failure(errc::image_malformed,
                            "unknown chip id " + chip_id_text(ext.chip_id) + " in the extended header at offset 12",
                            "otaflash knows " + chip_name_list() + "; a newer otaflash may know this chip");
    if (id.status == chip_id_status::known && !v1) {
        if (ext.hash_appended > 1)
            return make_failure(errc::image_malformed,
                                "extended header: hash flag at offset 23 is " + std::to_string(ext.hash_appended) +
                                    " (must be 0 or 1)",
                                "the header is corrupt: rebuild the firmware");
        return make_failure(errc::image_malformed,
                            "extended header: reserved bytes at offset 19..22 are not zero",
                            "the header is corrupt: rebuild the firmware");
    }
    return decided(std::move(v1), "no extended header (ESP8266); load addresses outside the known memory map");
}

}  // namespace

std::string_view format_name(image_format f) noexcept {
    switch (f) {
    case image_format::esp8266_v1: return "ESP8266 v1";
    case image_format::esp8266_v2: return "ESP8266 v2";
    case image_format::esp8266_v3: return "ESP8266 v3 (RTOS SDK)";
    case image_format::esp32: return "ESP32 family";
    }
    return "unknown";
}

std::string format_revision(std::uint16_t rev_full) {
    return "v" + std::to_string(rev_full / 100) + "." + std::to_string(rev_full % 100);
}

std::string_view flash_mode_name(std::uint8_t mode) noexcept {
    switch (mode) {
    case 0: return "QIO";
    case 1: return "QOUT";
    case 2: return "DIO";
    case 3: return "DOUT";
    default: return "unknown";
    }
}

std::string flash_size_name(const image_info& image) {
    if (auto label = flash_size_label(info(image.target), image.flash_size_code)) return std::string{*label};
    return "unknown (" + hex_digits(image.flash_size_code, 1) + ")";
}

std::string flash_freq_name(const image_info& image) {
    if (auto label = flash_freq_label(info(image.target), image.flash_freq_code)) return std::string{*label};
    return "unknown (" + hex_digits(image.flash_freq_code, 1) + ")";
}

std::string_view role_name(image_role r) noexcept {
    switch (r) {
    case image_role::application: return "application";
    case image_role::bootloader: return "bootloader";
    case image_role::ram_program: return "ram_program";
    }
    return "application";
}

namespace {

bool flash_mapped(region_kind k) {
    return k == region_kind::irom || k == region_kind::drom || k == region_kind::flash;
}

void classify(image_info& image) {
    const chip_info& c = info(image.target);
    if (image.bootloader) {
        image.role = image_role::bootloader;
        image.role_reason = "it carries a bootloader descriptor";
        return;
    }
    if (image.irom) return;  // ESP8266 v2: its irom segment runs from flash
    for (const auto& s : image.segments) {
        const auto* r = find_region(c, s.load_address);
        if (r && flash_mapped(r->kind)) return;
    }
    // Chips whose map is unknown name no region: nothing can be said.
    if (c.map_quality == map_accuracy::unknown) return;
    if (in_bootloader_ram(c, image.entry)) {
        image.role = image_role::bootloader;
        image.role_reason = "no code in flash and its entry point " + hex32(image.entry) + " is where the " +
                            std::string{c.display_name} + "'s second-stage bootloader loads";
        return;
    }
    for (const auto& s : image.segments) {
        if (in_bootloader_ram(c, s.load_address)) {
            image.role = image_role::bootloader;
            image.role_reason = "no code in flash and a segment at " + hex32(s.load_address) + ", where the " +
                                std::string{c.display_name} + "'s second-stage bootloader loads";
            return;
        }
    }
    image.role = image_role::ram_program;
    image.role_reason = "every segment loads into RAM and none into flash: a bootloader or a RAM-loadable program";
}

result<image_info> parse_any(byte_view data) {
    if (data.empty()) return make_failure(errc::file_empty, "the image is empty (0 bytes)", "check the path");
    if (data[0] == esp8266_v2_magic) return detail::read_esp8266_v2(data);
    if (data[0] != esp_image_magic)
        return make_failure(errc::not_an_image,
                            "first byte is " + hex_digits(data[0], 2) +
                                " at offset 0x00000000; an ESP image starts with 0xe9",
                            "is this the firmware .bin (not the .elf, a filesystem or a partition table)?");
    if (data.size() < family_first_segment)
        return make_failure(errc::image_malformed,
                            "header truncated: the file is " + std::to_string(data.size()) +
                                " bytes, shorter than the 24 bytes every image begins with",
                            "the file is incomplete: copy or download it again");
    return detect_and_read(data);
}

}  // namespace

result<image_info> parse_image(byte_view data) {
    auto image = parse_any(data);
    if (image) classify(*image);
    return image;
}

}  // namespace otaflash::image
