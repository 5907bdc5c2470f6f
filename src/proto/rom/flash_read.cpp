#include <otaflash/proto/rom/flash_read.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <cctype>

namespace otaflash::rom {

result<std::string> flash_md5(loader& rom, std::uint32_t offset, std::uint32_t size) {
    const std::string what = "compute the MD5 of " + flash_range(offset, size);
    auto r = rom.execute(spi_flash_md5(offset, size, rom.stub_running() ? stub_md5_length : rom_md5_hex_length),
                         rom.limits().md5(size), what);
    if (!r) return std::move(r).error();
    // A ROM sends 32 hex digits, then its status; a stub 16 raw bytes, then its 2 status bytes.
    if (r->data.size() >= rom_md5_hex_length + 2) {
        std::string text(as_text(r->payload(rom_md5_hex_length)));
        if (is_hex(text)) {
            std::transform(text.begin(), text.end(), text.begin(),
                           [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
            return text;
        }
    }
    if (r->data.size() == 16 + 2) return to_hex(r->payload(16));
    return make_failure(errc::protocol_violation,
                        "the ROM's answer to " + what + " is not an MD5 (" + std::to_string(r->data.size()) + " bytes)",
                        "this does not look like an Espressif ROM bootloader: check the port");
}

result<bytes> read_flash_slow(loader& rom, std::uint32_t offset, std::uint32_t length) {
    bytes out;
    out.reserve(length);
    while (out.size() < length) {
        const auto at = offset + static_cast<std::uint32_t>(out.size());
        const auto n = std::min<std::uint32_t>(read_flash_slow_max, length - static_cast<std::uint32_t>(out.size()));
        auto r = rom.execute(rom::read_flash_slow(at, n), rom.limits().command, "read flash at " + hex32(at));
        if (!r) return std::move(r).error();
        if (r->data.size() < read_flash_slow_reply)
            return make_failure(errc::protocol_violation,
                                "the ROM's answer to a flash read at " + hex32(at) + " is too short (" +
                                    std::to_string(r->data.size()) + " bytes)",
                                "this does not look like an Espressif ROM bootloader: check the port");
        // The reply always carries 64 bytes, whatever was asked for.
        auto got = r->payload(n);
        out.insert(out.end(), got.begin(), got.end());
    }
    return out;
}

result<std::optional<difference>> locate_difference(loader& rom, const chip_info& chip, std::uint32_t offset,
                                                    byte_view expected) {
    auto differs = [&](std::uint32_t from, std::uint32_t to) -> result<bool> {
        auto device = flash_md5(rom, offset + from, to - from);
        if (!device) return std::move(device).error();
        return *device != to_hex(md5(expected.subspan(from, to - from)));
    };
    std::uint32_t lo = 0;
    auto hi = static_cast<std::uint32_t>(expected.size());
    auto whole = differs(lo, hi);
    if (!whole) return std::move(whole).error();
    if (!*whole) return std::optional<difference>{};
    // Invariant: [lo, hi) differs and nothing before lo does. Cut at sector boundaries of the flash.
    while (hi - lo > flash_sector_size) {
        const std::uint32_t half = lo + (hi - lo) / 2;
        std::uint32_t cut = (offset + half) / flash_sector_size * flash_sector_size - offset;
        if (cut <= lo || cut >= hi) cut = half;
        auto left = differs(lo, cut);
        if (!left) return std::move(left).error();
        if (*left) hi = cut;
        else lo = cut;
    }
    difference d{offset + lo, offset + hi, std::nullopt, 0, 0};
    if (!chip.rom_read_flash_slow || rom.stub_running()) return std::optional<difference>(d);
    for (std::uint32_t at = lo; at < hi; at += read_flash_slow_max) {
        const std::uint32_t n = std::min<std::uint32_t>(read_flash_slow_max, hi - at);
        auto got = read_flash_slow(rom, offset + at, n);
        if (!got) return std::move(got).error();
        for (std::uint32_t i = 0; i < n; ++i) {
            if ((*got)[i] != expected[at + i]) {
                d.first_byte = offset + at + i;
                d.device = (*got)[i];
                d.expected = expected[at + i];
                return std::optional<difference>(d);
            }
        }
    }
    return std::optional<difference>(d);  // the sector's MD5 differed but its bytes read back equal
}

std::string describe(const difference& d) {
    std::string text;
    if (d.first_byte)
        text = hex32(*d.first_byte) + " (flash " + hex_digits(d.device, 2) + ", file " + hex_digits(d.expected, 2) +
               ") in ";
    return text + flash_range(d.start, d.end - d.start);
}

}  // namespace otaflash::rom
