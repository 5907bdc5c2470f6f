#pragma once
// A release the update server offers: the application image (bytes held once and shared by every
// transfer, so a file replaced on disk never mixes into a running download), its digests and the
// facts the project's own image checks found, and an optional filesystem image.

#include <otaflash/chip/chip.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::release {

struct image_blob {
    std::shared_ptr<const bytes> data;
    std::string md5;     // lowercase hex, what x-MD5 carries
    std::string sha256;  // lowercase hex
    std::uint32_t crc32 = 0;  // zlib CRC-32

    std::size_t size() const noexcept { return data ? data->size() : 0; }
    byte_view view() const noexcept { return data ? byte_view{*data} : byte_view{}; }
};

// Digests computed once from the bytes.
image_blob make_blob(bytes data);

struct image_facts {
    chip target = chip::esp32;
    std::string kind;                      // "esp32 application image", from the checks
    std::uint64_t flash_size = 0;          // bytes the image header asks for (0: not stated)
    std::string flash_size_label;          // "4MB"
    std::optional<std::string> embedded_version;  // the app descriptor's version, when present
    std::optional<std::string> project;           // the app descriptor's project name
};

// Runs the project's image checks (image::analyze_firmware) on an application image. Fails with
// an input-class errc (exit 4) naming the check when the file is not an image, fails a check, is
// a merged flash image or partition table, or its chip is unknown.
result<image_facts> examine_app_image(byte_view data);

struct release {
    std::string title;
    std::string version;
    std::vector<std::string> channels;  // empty: the default channel only (requests at "/")
    image_blob app;
    image_facts facts;
    std::optional<image_blob> fs;       // what `x-*-mode: spiffs` gets
    std::string source;                 // file or manifest it came from, for messages

    bool in_channel(std::string_view channel) const;
};

// "4MB" → 4 MiB, "512KB" → 512 KiB; 0 for anything else.
std::uint64_t flash_size_bytes(std::string_view label);

// "AA:BB:CC:DD:EE:FF" from any case, with ':' or '-' separators or none; nullopt when not a MAC.
std::optional<std::string> normalize_mac(std::string_view text);

// The key a device is tracked by: its normalized MAC when `id` is one, else `id` as given.
std::string device_key(std::string_view id);

}  // namespace otaflash::release
