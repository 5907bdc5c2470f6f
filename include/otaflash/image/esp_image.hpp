#pragma once
// One ESP firmware image (rom-bootloader.md §8): headers, segments, checksum, appended SHA-256,
// ESP8266 v1/v2/v3 variants, application and bootloader descriptors. Pure: bytes in, facts out.

#include <otaflash/chip/chip.hpp>
#include <otaflash/crypto/digest.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <otaflash/util/esp_checksum.hpp>

namespace otaflash::image {

inline constexpr std::uint8_t esp_image_magic = 0xE9;
inline constexpr std::uint8_t esp8266_v2_magic = 0xEA;
inline constexpr std::size_t max_segments = 16;
inline constexpr std::uint32_t app_descriptor_magic = 0xABCD5432;
inline constexpr std::uint8_t bootloader_descriptor_magic = 0x50;

enum class image_format : std::uint8_t {
    esp8266_v1,  // 8-byte header, segments, checksum (ROM-loadable)
    esp8266_v2,  // 0xEA header + irom segment, then a v1 image, then a CRC-32 (SDK bootloader)
    esp8266_v3,  // ESP8266_RTOS_SDK: all-zero extended header except the hash flag
    esp32,       // ESP32 family: extended header with chip id
};
std::string_view format_name(image_format f) noexcept;

struct extended_header {
    std::uint8_t wp_pin = 0;         // 0xEE: disabled
    std::uint8_t clk_drv = 0, q_drv = 0, d_drv = 0, cs_drv = 0, hd_drv = 0, wp_drv = 0;
    std::uint16_t chip_id = 0;
    std::uint8_t min_rev = 0;        // legacy single-byte revision
    std::uint16_t min_rev_full = 0;  // major*100 + minor
    std::uint16_t max_rev_full = 0;  // 0xFFFF: no limit; 0 in images older than the field
    std::uint8_t hash_appended = 0;
};

// "v0.0" from major*100+minor.
std::string format_revision(std::uint16_t rev_full);

struct segment {
    std::uint32_t load_address = 0;
    std::uint32_t length = 0;
    std::size_t header_offset = 0;   // of the 8-byte segment header, relative to the image start
    std::size_t data_offset = 0;     // of the data
    std::string_view region;         // memory region name, empty when unknown
};

struct app_descriptor {
    std::uint32_t secure_version = 0;
    std::string version, project_name, time, date, idf_version;
    sha256_digest elf_sha256{};
    std::uint16_t min_efuse_blk_rev_full = 0, max_efuse_blk_rev_full = 0;
    std::uint8_t mmu_page_size_log2 = 0;  // 0: not set
};

struct bootloader_descriptor {
    std::uint32_t version = 0;
    std::string idf_version, date_time;
};

struct digest_field {
    std::size_t offset = 0;  // of the 32 stored bytes
    sha256_digest stored{}, computed{};
    bool ok() const noexcept { return stored == computed; }
};

struct crc_field {  // ESP8266 v2 trailer
    std::size_t offset = 0;
    std::uint32_t stored = 0, computed = 0;
    bool ok() const noexcept { return stored == computed; }
};

// What the image is for, from its contents: an application has code in flash (IROM/DROM); a
// second-stage bootloader (its descriptor, or code where the chip's bootloader loads, see
// chip::in_bootloader_ram) and a RAM program (no segment in flash) are not applications.
enum class image_role : std::uint8_t { application, bootloader, ram_program };
std::string_view role_name(image_role r) noexcept;  // "application", "bootloader", "ram_program"

struct image_info {
    image_format format = image_format::esp32;
    chip target = chip::esp32;
    std::string detection;  // how the chip was decided, one line

    std::uint8_t segment_count = 0;  // header byte 1 (of the second header on ESP8266 v2)
    std::uint8_t flash_mode = 0;     // 0 QIO, 1 QOUT, 2 DIO, 3 DOUT
    std::uint8_t flash_size_code = 0, flash_freq_code = 0;
    std::uint32_t entry = 0;
    std::optional<extended_header> ext;
    std::vector<segment> segments;
    std::optional<segment> irom;  // ESP8266 v2 only: flash-resident, not covered by the checksum

    std::size_t checksum_offset = 0;
    std::uint8_t checksum_stored = 0, checksum_computed = 0;
    bool checksum_ok() const noexcept { return checksum_stored == checksum_computed; }
    std::optional<digest_field> digest;  // when the extended header's hash flag is 1
    std::optional<crc_field> crc32;      // ESP8266 v2

    std::size_t size = 0;  // bytes the image occupies, from its first byte through its last trailer

    std::optional<app_descriptor> app;
    std::optional<bootloader_descriptor> bootloader;

    image_role role = image_role::application;
    std::string role_reason;  // why, one line; empty for an application
};

std::string_view flash_mode_name(std::uint8_t mode) noexcept;  // "DIO"; "unknown" past DOUT
// "4MB", or "unknown (0xa)".
std::string flash_size_name(const image_info& image);
std::string flash_freq_name(const image_info& image);

// Parses the image that starts at data[0]; bytes after its end are ignored (the caller decides
// what they are). Never reads outside `data`. Failures are errc::image_malformed (a truncated or
// inconsistent image: the message names the offset) or errc::not_an_image (wrong magic).
// How the chip is told apart when the image does not say (README "How the chip is found"):
//   * 0xEA first byte: ESP8266 v2.
//   * bytes 8..23 are an ESP32-family extended header only if the hash flag (byte 23) is 0 or 1,
//     the reserved bytes 19..22 are zero and the chip id (bytes 12..13) is one the table knows.
//     Then the segments must load where that chip has memory and the entry point must be in its
//     executable RAM; if they do not, but reading the file as an ESP8266 image (segments from
//     byte 8) puts every segment and the entry point into ESP8266 memory, it is an ESP8266 v1
//     image whose first segment merely looks like a header. (The v3 RTOS SDK header is all zero
//     except the hash flag, i.e. chip id 0 = ESP32; the same memory test separates the two.)
//   * otherwise: an ESP8266 v1 image, and if that does not parse either, the failure reported is
//     the one that names what is most likely wrong (an unknown or retired chip id, a bad hash
//     flag, or the ESP8266 reading's own error).
result<image_info> parse_image(byte_view data);

}  // namespace otaflash::image
