#include <otaflash/chip/efuse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace otaflash {
namespace {

// A field of `width` bits at `shift` in the word at `address`.
struct field {
    std::uint32_t address;
    std::uint8_t shift;
    std::uint8_t width;
    std::uint32_t get(std::uint32_t word) const noexcept { return (word >> shift) & ((1u << width) - 1); }
    std::uint32_t put(std::uint32_t value) const noexcept { return (value & ((1u << width) - 1)) << shift; }
};

enum class mac_layout : std::uint8_t { esp8266_otp, esp32_blk0, block1 };

// ESP32-S2 and later: the MAC is the first 48 bits of eFuse BLOCK1 (word 0 = MAC bytes 2..5, word 1
// low half = bytes 0..1); the revision is split over three BLOCK1 fields.
struct block1_layout {
    std::uint32_t block1;
    field major, minor_hi, minor_lo;
};

struct fuse_layout {
    chip id;
    mac_layout mac;
    block1_layout block1{};
};

// ESP8266 OTP (targets/esp8266.py read_mac): word 0x50 bits 24..31 = MAC byte 5, word 0x54 bits
// 0..15 = bytes 4, 3 and bits 16..23 select a stock OUI when word 0x5C (the OUI itself) is 0.
constexpr std::uint32_t esp8266_otp_mac0 = 0x3FF00050, esp8266_otp_mac1 = 0x3FF00054, esp8266_otp_mac3 = 0x3FF0005C;
// ESP32 eFuse BLOCK0 read words (targets/esp32.py): word 1 = MAC bytes 2..5, word 2 bits 0..15 =
// bytes 0..1 and bits 16..23 the MAC's CRC-8; the major revision is coded in word 3 bit 15, word 5
// bit 20 and APB_CTL_DATE bit 31, the minor in word 5 bits 24..25.
constexpr std::uint32_t esp32_efuse = 0x3FF5A000;
constexpr std::uint32_t esp32_apb_ctl_date = 0x3FF6607C;
constexpr field esp32_rev_bit0{esp32_efuse + 4 * 3, 15, 1}, esp32_rev_bit1{esp32_efuse + 4 * 5, 20, 1},
    esp32_rev_bit2{esp32_apb_ctl_date, 31, 1}, esp32_minor{esp32_efuse + 4 * 5, 24, 2};

constexpr std::uint32_t s2_block1 = 0x3F41A044, s3_block1 = 0x60007044, c3_block1 = 0x60008844;
constexpr fuse_layout layouts[] = {
    {chip::esp8266, mac_layout::esp8266_otp},
    {chip::esp32, mac_layout::esp32_blk0},
    // targets/esp32s2.py: major word 3 bits 18..19, minor = word 3 bit 20 : word 4 bits 4..6.
    {chip::esp32s2, mac_layout::block1,
     {s2_block1, {s2_block1 + 12, 18, 2}, {s2_block1 + 12, 20, 1}, {s2_block1 + 16, 4, 3}}},
    // targets/esp32s3.py, esp32c3.py: major word 5 bits 24..25, minor = word 5 bit 23 : word 3 bits 18..20.
    {chip::esp32s3, mac_layout::block1,
     {s3_block1, {s3_block1 + 20, 24, 2}, {s3_block1 + 20, 23, 1}, {s3_block1 + 12, 18, 3}}},
    {chip::esp32c3, mac_layout::block1,
     {c3_block1, {c3_block1 + 20, 24, 2}, {c3_block1 + 20, 23, 1}, {c3_block1 + 12, 18, 3}}},
};

const fuse_layout* layout_of(const chip_info& c) noexcept {
    for (const auto& l : layouts)
        if (l.id == c.id) return &l;
    return nullptr;
}

// ESP32 ROM esp_crc8 (espefuse: CRC-8, reflected polynomial 0x8C, initial 0) over the MAC.
std::uint8_t mac_crc8(const mac_address& mac) noexcept {
    std::uint8_t crc = 0;
    for (auto b : mac) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = (crc & 1) ? static_cast<std::uint8_t>((crc >> 1) ^ 0x8C) : static_cast<std::uint8_t>(crc >> 1);
    }
    return crc;
}

// The ESP32's major revision from its three scattered bits (targets/esp32.py get_major_chip_version).
std::uint8_t esp32_major(std::uint32_t bits) noexcept {
    switch (bits) {
    case 1: return 1;
    case 3: return 2;
    case 7: return 3;
    default: return 0;
    }
}

std::uint32_t be32(const mac_address& m, std::size_t from) noexcept {
    return std::uint32_t{m[from]} << 24 | std::uint32_t{m[from + 1]} << 16 | std::uint32_t{m[from + 2]} << 8 | m[from + 3];
}

void put_be32(mac_address& m, std::size_t from, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) m[from + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

}  // namespace

std::vector<std::uint32_t> fuse_registers(const chip_info& c) {
    const auto* l = layout_of(c);
    if (!l) return {};
    switch (l->mac) {
    case mac_layout::esp8266_otp: return {esp8266_otp_mac0, esp8266_otp_mac1, esp8266_otp_mac3};
    case mac_layout::esp32_blk0:
        return {esp32_efuse + 4, esp32_efuse + 8, esp32_rev_bit0.address, esp32_rev_bit1.address, esp32_apb_ctl_date};
    case mac_layout::block1: {
        const auto& b = l->block1;
        std::vector<std::uint32_t> out{b.block1, b.block1 + 4};
        for (auto a : {b.major.address, b.minor_hi.address, b.minor_lo.address})
            if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
        return out;
    }
    }
    return {};
}

std::optional<chip_fuses> decode_fuses(const chip_info& c, std::span<const std::uint32_t> values) {
    const auto registers = fuse_registers(c);
    if (registers.empty() || values.size() != registers.size()) return std::nullopt;
    auto at = [&](std::uint32_t address) {
        for (std::size_t i = 0; i < registers.size(); ++i)
            if (registers[i] == address) return values[i];
        return 0u;
    };
    const auto& l = *layout_of(c);
    chip_fuses f;
    switch (l.mac) {
    case mac_layout::esp8266_otp: {
        const std::uint32_t mac0 = values[0], mac1 = values[1], mac3 = values[2];
        std::uint32_t oui = mac3;
        if (oui == 0) {
            const std::uint32_t stock = (mac1 >> 16) & 0xFF;
            if (stock == 0) oui = 0x18FE34;
            else if (stock == 1) oui = 0xACD074;
            else return std::nullopt;  // esptool: "Unknown OUI"
        }
        f.mac = {static_cast<std::uint8_t>(oui >> 16), static_cast<std::uint8_t>(oui >> 8), static_cast<std::uint8_t>(oui),
                 static_cast<std::uint8_t>(mac1 >> 8), static_cast<std::uint8_t>(mac1), static_cast<std::uint8_t>(mac0 >> 24)};
        return f;
    }
    case mac_layout::esp32_blk0: {
        const std::uint32_t w1 = values[0], w2 = values[1];
        f.mac[0] = static_cast<std::uint8_t>(w2 >> 8);
        f.mac[1] = static_cast<std::uint8_t>(w2);
        put_be32(f.mac, 2, w1);
        const std::uint32_t bits = esp32_rev_bit0.get(at(esp32_rev_bit0.address)) |
                                   esp32_rev_bit1.get(at(esp32_rev_bit1.address)) << 1 |
                                   esp32_rev_bit2.get(at(esp32_rev_bit2.address)) << 2;
        f.revision = chip_revision{esp32_major(bits), static_cast<std::uint8_t>(esp32_minor.get(at(esp32_minor.address)))};
        return f;
    }
    case mac_layout::block1: {
        const auto& b = l.block1;
        const std::uint32_t mac0 = values[0], mac1 = values[1];
        f.mac[0] = static_cast<std::uint8_t>(mac1 >> 8);
        f.mac[1] = static_cast<std::uint8_t>(mac1);
        put_be32(f.mac, 2, mac0);
        const auto minor = b.minor_hi.get(at(b.minor_hi.address)) << b.minor_lo.width | b.minor_lo.get(at(b.minor_lo.address));
        f.revision = chip_revision{static_cast<std::uint8_t>(b.major.get(at(b.major.address))), static_cast<std::uint8_t>(minor)};
        return f;
    }
    }
    return std::nullopt;
}

chip_revision max_revision(const chip_info& c) noexcept {
    const auto* l = layout_of(c);
    if (!l || l->mac == mac_layout::esp8266_otp) return {0, 0};
    if (l->mac == mac_layout::esp32_blk0) return {3, 3};
    return {3, static_cast<std::uint8_t>((1u << (l->block1.minor_hi.width + l->block1.minor_lo.width)) - 1)};
}

std::vector<register_word> encode_fuses(const chip_info& c, const chip_fuses& f) {
    std::vector<register_word> out;
    for (auto a : fuse_registers(c)) out.push_back({a, 0});
    auto set = [&](std::uint32_t address, std::uint32_t bits) {
        for (auto& w : out)
            if (w.address == address) w.value |= bits;
    };
    const auto* l = layout_of(c);
    if (!l) return out;
    const auto& m = f.mac;
    const chip_revision rev = f.revision.value_or(chip_revision{});
    switch (l->mac) {
    case mac_layout::esp8266_otp:
        set(esp8266_otp_mac0, std::uint32_t{m[5]} << 24);
        set(esp8266_otp_mac1, std::uint32_t{m[3]} << 8 | m[4]);
        set(esp8266_otp_mac3, std::uint32_t{m[0]} << 16 | std::uint32_t{m[1]} << 8 | m[2]);
        break;
    case mac_layout::esp32_blk0: {
        set(esp32_efuse + 4, be32(m, 2));
        set(esp32_efuse + 8, std::uint32_t{mac_crc8(m)} << 16 | std::uint32_t{m[0]} << 8 | m[1]);
        static constexpr std::uint32_t major_bits[] = {0, 1, 3, 7};
        const std::uint32_t bits = major_bits[rev.major & 3];
        set(esp32_rev_bit0.address, esp32_rev_bit0.put(bits));
        set(esp32_rev_bit1.address, esp32_rev_bit1.put(bits >> 1));
        set(esp32_rev_bit2.address, esp32_rev_bit2.put(bits >> 2));
        set(esp32_minor.address, esp32_minor.put(rev.minor));
        break;
    }
    case mac_layout::block1: {
        const auto& b = l->block1;
        set(b.block1, be32(m, 2));
        set(b.block1 + 4, std::uint32_t{m[0]} << 8 | m[1]);
        set(b.major.address, b.major.put(rev.major));
        set(b.minor_hi.address, b.minor_hi.put(rev.minor >> b.minor_lo.width));
        set(b.minor_lo.address, b.minor_lo.put(rev.minor));
        break;
    }
    }
    return out;
}

std::string format_mac(const mac_address& mac) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < mac.size(); ++i) {
        if (i) out += ':';
        out += digits[mac[i] >> 4];
        out += digits[mac[i] & 0xF];
    }
    return out;
}

std::optional<mac_address> parse_mac(std::string_view text) {
    std::string hex;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if ((ch == ':' || ch == '-') && hex.size() % 2 == 0 && !hex.empty() && i + 1 < text.size()) continue;
        if (!std::isxdigit(static_cast<unsigned char>(ch))) return std::nullopt;
        hex += ch;
    }
    if (hex.size() != 12) return std::nullopt;
    mac_address mac{};
    for (std::size_t i = 0; i < 6; ++i)
        std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, mac[i], 16);
    return mac;
}

std::optional<chip_revision> parse_revision(std::string_view text) {
    if (text.starts_with('v') || text.starts_with('V')) text.remove_prefix(1);
    auto number = [](std::string_view s) -> std::optional<unsigned> {
        unsigned v = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
        return v;
    };
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) {
        auto full = number(text);
        if (!full || *full > 9999) return std::nullopt;
        return chip_revision{static_cast<std::uint8_t>(*full / 100), static_cast<std::uint8_t>(*full % 100)};
    }
    auto major = number(text.substr(0, dot)), minor = number(text.substr(dot + 1));
    if (!major || !minor || *major > 99 || *minor > 99) return std::nullopt;
    return chip_revision{static_cast<std::uint8_t>(*major), static_cast<std::uint8_t>(*minor)};
}

}  // namespace otaflash
