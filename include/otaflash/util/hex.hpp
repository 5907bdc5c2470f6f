#pragma once

#include <otaflash/util/bytes.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otaflash {

// Lowercase hex, as every device compares it.
std::string to_hex(byte_view data);

// Accepts either case; nullopt on odd length or a non-hex character.
std::optional<bytes> from_hex(std::string_view text);

bool is_hex(std::string_view text) noexcept;

// "0x%08x"-style formatting without iostreams.
std::string hex32(std::uint32_t value);
// File offsets in messages: "0x00000018", like hex32, with more digits only past 4 GiB.
std::string hex_offset(std::size_t offset);
// "0x" and exactly `digits` lowercase digits (1..8): hex_digits(0xe9, 2) == "0xe9".
std::string hex_digits(std::uint32_t value, unsigned digits);

}  // namespace otaflash
