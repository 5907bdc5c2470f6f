#pragma once
// What a firmware *file* holds: one image, a merged "factory" flash image (bootloader, partition
// table, apps), a partition table alone, any of these gzip-compressed or with an ESP8266 signature
// trailer. `analyze_firmware` finds out and runs every check; `otaflash info` and `verify` render it.

#include <otaflash/chip/chip.hpp>
#include <otaflash/image/checks.hpp>
#include <otaflash/image/esp_image.hpp>
#include <otaflash/image/partition_table.hpp>
#include <otaflash/result.hpp>

#include <optional>
#include <string>
#include <vector>

namespace otaflash::image {

enum class file_kind : std::uint8_t {
    image,            // one image at offset 0 (ESP8266 files may carry the app at 0x1000 after eboot)
    merged,           // a flash image for offset 0: bootloader, partition table at 0x8000, apps
    partition_table,  // a partition table alone
};
std::string_view kind_name(file_kind k) noexcept;

struct embedded_image {
    std::string label;        // "image", "bootloader", "app factory", "app"
    std::size_t offset = 0;   // in the (inflated) file
    std::optional<image_info> image;  // empty when erased or unparsable (see `problem`)
    std::string problem;      // why there is no image here
};

struct gzip_info {
    std::size_t compressed_size = 0;  // bytes of the gzip member
    std::size_t inflated_size = 0;
};

struct signature_info {  // ESP8266 Arduino signed update: image ‖ signature ‖ u32 length
    std::size_t offset = 0;
    std::size_t length = 0;
};

struct secure_boot_info {  // ESP32-family secure boot signature after the image
    int version = 2;          // 1 (ESP32 ECDSA block) or 2 (signature sector)
    std::size_t offset = 0;   // of the block (V1) or the 4 KiB signature sector (V2)
    std::size_t blocks = 0;   // signature blocks found
};

struct firmware_file {
    file_kind kind = file_kind::image;
    std::size_t size = 0;                    // bytes of the file as given
    std::optional<gzip_info> gzip;           // offsets below refer to the inflated bytes when set
    std::optional<signature_info> signature;
    std::optional<secure_boot_info> secure_boot;
    std::optional<chip> target;              // from the first image
    std::vector<embedded_image> images;
    std::optional<partition_table> partitions;
    std::vector<check> checks;
    std::vector<std::string> notes;          // facts worth telling that are not failures

    bool ok() const noexcept;
    const check* first_failure() const noexcept;
};

struct analyze_options {
    std::optional<chip> expected_chip;       // adds a "chip" check (errc::chip_mismatch)
    std::size_t max_inflated_size = 64u << 20;
};

// Fails (errc::not_an_image, file_empty, image_malformed, image_too_large) when the bytes are not
// a firmware file at all or its first image cannot be read; problems inside a readable file are
// failed checks instead.
result<firmware_file> analyze_firmware(byte_view data, const analyze_options& options = {});

// The failure analyze_firmware would report, when the first bytes of a file (`head`, of a file of
// `file_size` bytes) already decide it: not an image, a filesystem, erased flash without a
// bootloader where merged images keep one. nullopt: the whole file is needed.
std::optional<failure> refuse_from_head(byte_view head, std::uint64_t file_size);

}  // namespace otaflash::image
