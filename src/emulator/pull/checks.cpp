#include "emulator/pull/checks.hpp"

#include <otaflash/chip/chip.hpp>
#include <otaflash/crypto/digest.hpp>
#include <otaflash/release/release.hpp>
#include <otaflash/release/version.hpp>
#include <otaflash/util/base64.hpp>
#include <otaflash/util/hex.hpp>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace otaflash::emulator::pull {

std::optional<client_kind> parse_kind(std::string_view name) noexcept {
    if (name == "esp8266-httpupdate") return client_kind::esp8266_httpupdate;
    if (name == "esp32-httpupdate") return client_kind::esp32_httpupdate;
    if (name == "esp32fota") return client_kind::esp32fota;
    if (name == "raw") return client_kind::raw;
    return std::nullopt;
}

std::string_view kind_name(client_kind kind) noexcept {
    switch (kind) {
    case client_kind::esp8266_httpupdate: return "esp8266-httpupdate";
    case client_kind::esp32_httpupdate: return "esp32-httpupdate";
    case client_kind::esp32fota: return "esp32fota";
    case client_kind::raw: return "raw";
    }
    return "?";
}

bool is_esp8266(const device_profile& d) noexcept { return d.esp8266 || d.kind == client_kind::esp8266_httpupdate; }

header_list arduino_headers(const device_profile& d, std::string_view mode) {
    const std::string p = is_esp8266(d) ? "x-ESP8266-" : "x-ESP32-";
    std::string md5 = d.running_md5.empty() ? std::string(32, '0') : d.running_md5;
    header_list h{{"User-Agent", is_esp8266(d) ? "ESP8266-http-Update" : "ESP32-http-Update"}};
    if (!is_esp8266(d)) h.emplace_back("Cache-Control", "no-cache");
    else h.emplace_back(p + "Chip-ID", "1234567");
    h.insert(h.end(), {{p + "STA-MAC", d.mac},
                       {p + "AP-MAC", d.mac},
                       {p + "free-space", std::to_string(d.free_space)},
                       {p + "sketch-size", std::to_string(d.sketch_size)},
                       {p + "sketch-md5", md5},
                       {p + "chip-size", std::to_string(d.flash_size)},
                       {p + "sdk-version", is_esp8266(d) ? "2.2.2-dev(38a443e)" : "v4.4.7"},
                       {p + "mode", std::string(mode)}});
    if (!d.version.empty()) h.emplace_back(p + "version", d.version);
    return h;
}

namespace {

bool basic(const device_credentials& c) { return !c.user.empty() && !c.password.empty(); }

}  // namespace

secret authorization_value(const device_credentials& c) {
    if (basic(c)) {
        std::string pair = c.user + ":" + std::string(c.password.reveal());
        std::string encoded = to_base64(as_bytes(pair));
        secret value{"Basic " + encoded};
        OPENSSL_cleanse(pair.data(), pair.size());
        OPENSSL_cleanse(encoded.data(), encoded.size());
        return value;
    }
    if (!c.token.empty()) return secret{"Bearer " + std::string(c.token.reveal())};
    return {};
}

std::string credentials_sent(const device_credentials& c) {
    if (basic(c)) return "Basic credentials of user '" + c.user + "'";
    if (!c.token.empty()) return "bearer token";
    return "";
}

std::optional<std::string> arduino_status_error(unsigned status) {
    switch (status) {
    case 200: return std::nullopt;
    case 304: return "no update";
    case 401: return "Unauthorized (401)";
    case 403: return "Forbidden (403)";
    case 404: return "File Not Found (404)";
    default: return "Wrong HTTP Code (" + std::to_string(status) + ")";
    }
}

std::optional<std::string> check_length(const device_profile& d, std::optional<std::uint64_t> length) {
    if (!length || *length == 0) return "Server Did Not Report Size";
    const auto room = d.spiffs ? d.fs_size : d.free_space;
    if (*length > room) return "Not Enough space (" + std::to_string(*length) + " > " + std::to_string(room) + ")";
    return std::nullopt;
}

std::optional<std::string> check_content_type(const device_profile& d, std::string_view content_type) {
    if (d.kind != client_kind::esp32fota || content_type == "application/octet-stream") return std::nullopt;
    return "There was no valid content type in the response ('" + std::string(content_type) + "')";
}

namespace {

// What Update makes of a sketch's first bytes: ESP8266httpUpdate checks the magic (0x1F: gzip,
// which the esp8266 core inflates) and the header's flash size against the real chip; the esp32
// Update checks the magic only.
std::optional<std::string> check_sketch(const device_profile& d, const received_image& image) {
    const byte_view body(image.head);
    if (!is_esp8266(d)) {
        if (body[0] != 0xE9) return "Wrong Magic Byte (0x" + to_hex(body.subspan(0, 1)) + ")";
        return std::nullopt;
    }
    if (body[0] == 0x1F) return std::nullopt;
    if (body[0] != 0xE9) return "Verify Bin Header Failed (first byte 0x" + to_hex(body.subspan(0, 1)) + ")";
    if (body.size() < 4) return "Verify Bin Header Failed (" + std::to_string(image.size) + " bytes)";
    if (auto label = flash_size_label(info(chip::esp8266), body[3] >> 4)) {
        if (release::flash_size_bytes(*label) > d.flash_size)
            return "New Binary Does Not Fit Flash Size (" + std::string(*label) + " > " + std::to_string(d.flash_size >> 10) +
                   " KB)";
    }
    return std::nullopt;
}

}  // namespace

received_image receive_whole(byte_view body) {
    received_image r;
    r.head.assign(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(std::min(body.size(), received_image::head_size)));
    r.size = body.size();
    r.md5 = to_hex(md5(body));
    return r;
}

std::optional<std::string> check_image(const device_profile& d, std::optional<std::uint64_t> length, std::string_view x_md5,
                                       const received_image& image) {
    if (length && image.size != *length)
        return "Update end failed: wrote " + std::to_string(image.size) + " of " + std::to_string(*length) + " bytes";
    if (image.size == 0) return "empty body";
    if (!d.spiffs) {
        if (auto error = check_sketch(d, image)) return error;
    }
    if (!x_md5.empty()) {
        std::string want(x_md5);
        std::transform(want.begin(), want.end(), want.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (want != image.md5) return "MD5 Check Failed (expected " + want + ", got " + image.md5 + ")";
    }
    return std::nullopt;
}

result<manifest_entry> parse_manifest(std::string_view text, std::string_view type) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_failure(errc::protocol_violation, "the manifest is not JSON");
    std::vector<nlohmann::json> entries;
    if (j.is_array()) entries.assign(j.begin(), j.end());
    else entries.push_back(j);
    for (const auto& e : entries) {
        if (!e.is_object() || !e.contains("version")) continue;
        const std::string t = e.value("type", "");
        if (!type.empty() && t != type) continue;
        manifest_entry m;
        m.type = t;
        m.version = e["version"].is_string() ? e["version"].get<std::string>() : e["version"].dump();
        if (e.contains("url") && e["url"].is_string()) {
            m.url = e["url"].get<std::string>();
        } else if (e.contains("host") && e.contains("bin")) {
            const auto port = e.contains("port") ? e["port"].dump() : std::string("80");
            m.url = "http://" + e.value("host", "") + ":" + port + e.value("bin", "");
        } else {
            return make_failure(errc::protocol_violation, "the manifest entry has neither url nor host/bin");
        }
        // esp32FOTA hands the url to HTTPClient::begin, which takes absolute http(s) URLs only.
        if (!m.url.starts_with("http://") && !m.url.starts_with("https://"))
            return make_failure(errc::protocol_violation, "the manifest's url '" + m.url + "' is not an absolute http(s) URL");
        return m;
    }
    return make_failure(errc::protocol_violation, "the manifest has no entry of type '" + std::string(type) + "'");
}

bool fota_wants(std::string_view running, std::string_view offered) {
    return release::compare_versions(running, offered) == release::version_order::older;
}

bool raw_wants(std::string_view running, std::string_view offered) { return running != offered; }

}  // namespace otaflash::emulator::pull
