#include <otaflash/release/release.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/image/firmware_file.hpp>
#include <otaflash/util/hex.hpp>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace otaflash::release {

image_blob make_blob(bytes data) {
    image_blob blob;
    blob.md5 = to_hex(md5(data));
    blob.sha256 = to_hex(sha256(data));
    uLong crc = ::crc32(0L, Z_NULL, 0);
    for (std::size_t at = 0; at < data.size();) {
        auto n = static_cast<uInt>(std::min<std::size_t>(data.size() - at, 1u << 30));
        crc = ::crc32(crc, data.data() + at, n);
        at += n;
    }
    blob.crc32 = static_cast<std::uint32_t>(crc);
    blob.data = std::make_shared<const bytes>(std::move(data));
    return blob;
}

std::uint64_t flash_size_bytes(std::string_view label) {
    std::uint64_t unit = 0;
    if (label.ends_with("MB")) unit = 1u << 20;
    else if (label.ends_with("KB")) unit = 1u << 10;
    else return 0;
    label.remove_suffix(2);
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(label.data(), label.data() + label.size(), n);
    if (ec != std::errc{} || p != label.data() + label.size()) return 0;
    return n * unit;
}

result<image_facts> examine_app_image(byte_view data) {
    auto file = image::analyze_firmware(data);
    if (!file) return std::move(file).error();
    if (file->kind != image::file_kind::image)
        return make_failure(errc::not_an_image,
                            "this is a " + std::string(image::kind_name(file->kind)) + ", not an application image",
                            "serve the application image (build/<project>.bin), not the merged or factory image");
    if (const auto* bad = file->first_failure()) {
        std::string where = bad->scope.empty() ? "" : " (" + bad->scope + ")";
        return make_failure(errc::image_malformed, "image check '" + bad->name + "' failed" + where + ": " + bad->detail,
                            bad->hint.empty() ? "rebuild the image; otaflash verify FILE shows every check" : bad->hint);
    }
    if (!file->target || file->images.empty() || !file->images.front().image)
        return make_failure(errc::chip_mismatch, "the image names no chip otaflash knows",
                            "known chips: " + chip_name_list());
    const auto& info = *file->images.front().image;
    image_facts facts;
    facts.target = *file->target;
    facts.kind = std::string(name(facts.target)) + " application image";
    facts.flash_size_label = image::flash_size_name(info);
    facts.flash_size = flash_size_bytes(facts.flash_size_label);
    if (info.app) {
        if (!info.app->version.empty()) facts.embedded_version = info.app->version;
        if (!info.app->project_name.empty()) facts.project = info.app->project_name;
    }
    return facts;
}

bool release::in_channel(std::string_view channel) const {
    if (channel.empty()) return channels.empty() || std::find(channels.begin(), channels.end(), "stable") != channels.end();
    return std::find(channels.begin(), channels.end(), channel) != channels.end();
}

std::optional<std::string> normalize_mac(std::string_view text) {
    std::string hex;
    for (char c : text) {
        if (c == ':' || c == '-') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
        hex.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    if (hex.size() != 12) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < 12; i += 2) {
        if (i) out.push_back(':');
        out.append(hex, i, 2);
    }
    return out;
}

std::string device_key(std::string_view id) {
    if (auto mac = normalize_mac(id)) return *mac;
    return std::string(id);
}

}  // namespace otaflash::release
