#pragma once
// Where a chip keeps its factory MAC address and its silicon revision: eFuse (ESP8266: OTP) words
// a host reads with READ_REG, laid out as esptool reads them (targets/*.py read_mac,
// get_major_chip_version, get_minor_chip_version). The emulated ROM writes these words and the
// flasher reads them back through the same table.

#include <otaflash/chip/chip.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash {

using mac_address = std::array<std::uint8_t, 6>;

struct chip_revision {
    std::uint8_t major = 0;
    std::uint8_t minor = 0;
    // esptool's number, major × 100 + minor (what image::format_revision prints as "v3.0").
    std::uint16_t full() const noexcept { return static_cast<std::uint16_t>(major * 100 + minor); }
    friend bool operator==(chip_revision, chip_revision) = default;
};

struct register_word {
    std::uint32_t address;
    std::uint32_t value;
};

struct chip_fuses {
    mac_address mac{};
    std::optional<chip_revision> revision;  // the ESP8266 has no revision field
};

// The registers to read, in the order decode_fuses() takes their values; empty when the layout of
// this chip is not known.
std::vector<std::uint32_t> fuse_registers(const chip_info& c);
// nullopt when `values` does not match fuse_registers(c) or the words hold no valid MAC.
std::optional<chip_fuses> decode_fuses(const chip_info& c, std::span<const std::uint32_t> values);
// The words a chip with these fuses holds; every register of fuse_registers(c) is among them.
std::vector<register_word> encode_fuses(const chip_info& c, const chip_fuses& fuses);
// The highest revision the chip's fields can hold (major, minor).
chip_revision max_revision(const chip_info& c) noexcept;

// "24:0a:c4:12:34:56", as esptool prints it.
std::string format_mac(const mac_address& mac);
// Any case, ':' or '-' or no separators.
std::optional<mac_address> parse_mac(std::string_view text);
// "3.0", "v3.0" or "300" (major × 100 + minor, esptool's chip_revision number).
std::optional<chip_revision> parse_revision(std::string_view text);

}  // namespace otaflash
