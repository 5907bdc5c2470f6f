#include "emulator/pull/fleet.hpp"

#include <otaflash/release/release.hpp>

#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace otaflash::emulator::pull {
namespace {

std::optional<std::uint64_t> number(const std::string& text) {
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

std::string with_index(std::string text, unsigned index) {
    for (auto at = text.find("%d"); at != std::string::npos; at = text.find("%d", at))
        text.replace(at, 2, std::to_string(index));
    return text;
}

}  // namespace

std::string mac_plus(const std::string& mac, unsigned n) {
    auto normal = release::normalize_mac(mac).value_or("24:0A:C4:00:00:00");
    bytes b;
    for (std::size_t i = 0; i < normal.size(); i += 3) b.push_back(static_cast<std::uint8_t>(std::stoul(normal.substr(i, 2), nullptr, 16)));
    std::uint32_t low = (std::uint32_t{b[3]} << 16 | std::uint32_t{b[4]} << 8 | b[5]) + n;
    b[3] = static_cast<std::uint8_t>(low >> 16), b[4] = static_cast<std::uint8_t>(low >> 8), b[5] = static_cast<std::uint8_t>(low);
    std::string out;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i) out += ':';
        out += to_hex(byte_view{&b[i], 1});
    }
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
    return out;
}

result<void> apply_setting(device_settings& d, const std::string& key, const std::string& value) {
    auto bad = [&](std::string why) { return make_failure(errc::usage_error, key + "=" + value + ": " + why); };
    auto& p = d.profile;
    if (key == "kind") {
        auto k = parse_kind(value);
        if (!k) return bad("one of " + std::string(kind_names));
        p.kind = *k;
    } else if (key == "version") {
        p.version = value;
    } else if (key == "chip") {
        if (value != "esp32" && value != "esp8266") return bad("esp32 or esp8266");
        p.esp8266 = value == "esp8266";
    } else if (key == "flash" || key == "free") {
        auto n = number(value);
        if (!n) n = release::flash_size_bytes(value);
        if (!n || *n == 0) return bad("a size in bytes, or like 4MB / 512KB");
        (key == "flash" ? p.flash_size : p.free_space) = *n;
    } else if (key == "mac") {
        auto mac = release::normalize_mac(value);
        if (!mac) return bad("a MAC address");
        p.mac = *mac;
    } else if (key == "mode") {
        if (value != "sketch" && value != "spiffs" && value != "version") return bad("sketch, spiffs or version");
        p.spiffs = value == "spiffs";
        d.version_query = value == "version";
    } else if (key == "fs-size") {
        auto n = number(value);
        if (!n) n = release::flash_size_bytes(value);
        if (!n || *n == 0) return bad("a size in bytes, or like 1MB / 512KB");
        p.fs_size = *n;
    } else if (key == "sketch-md5") {
        p.running_md5 = value;
    } else if (key == "type") {
        p.type = value;
    } else if (key == "url") {
        d.url = value;
    } else if (key == "drop-after") {
        auto n = number(value);
        if (!n || *n == 0) return bad("a byte count above 0");
        d.drop_after = *n;
    } else if (key == "attempts") {
        auto n = number(value);
        if (!n || *n == 0 || *n > 100) return bad("1 to 100");
        d.attempts = static_cast<int>(*n);
    } else if (key == "out") {
        d.out = value;
    } else if (key == "user") {
        d.credentials.user = value;
    } else {
        return make_failure(errc::usage_error, "unknown device key '" + key + "'",
                            "keys: " + std::string(setting_names));
    }
    return {};
}

std::vector<device_settings> repeat(const device_settings& base, unsigned count, unsigned first_index) {
    std::vector<device_settings> out;
    for (unsigned i = 0; i < count; ++i) {
        auto d = base;
        d.profile.mac = mac_plus(base.profile.mac, i);
        d.out = with_index(base.out, first_index + i);
        out.push_back(std::move(d));
    }
    return out;
}

result<std::vector<device_settings>> expand_group(const device_settings& base, const std::string& spec, unsigned first_index) {
    auto d = base;
    unsigned count = 1;
    std::size_t at = 0;
    while (at <= spec.size()) {
        auto comma = spec.find(',', at);
        const std::string item = spec.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        at = comma == std::string::npos ? spec.size() + 1 : comma + 1;
        if (item.empty()) continue;
        const auto eq = item.find('=');
        if (eq == std::string::npos) return make_failure(errc::usage_error, "--devices: '" + item + "' is not key=value");
        const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
        if (key == "count") {
            auto n = number(value);
            if (!n || *n == 0 || *n > 10000) return make_failure(errc::usage_error, "--devices count=" + value + ": 1 to 10000");
            count = static_cast<unsigned>(*n);
        } else if (auto applied = apply_setting(d, key, value); !applied) {
            return std::move(applied).error();
        }
    }
    return repeat(d, count, first_index);
}

}  // namespace otaflash::emulator::pull
