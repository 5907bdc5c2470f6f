#pragma once
// The status bytes of a ROM reply and what the ROM's error codes mean
// (../shared/protocols/rom-bootloader.md §1.3).

#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::rom {

// ESP8266 ROM: [failed, error]; ESP32-family ROMs: [failed, error, 0, 0].
inline constexpr std::size_t esp8266_status_length = 2;
inline constexpr std::size_t esp32_status_length = 4;
// A flasher stub, on every chip: [failed, error].
inline constexpr std::size_t stub_status_length = 2;

struct status {
    bool failed = false;
    std::uint8_t error = 0;
};

// The status sits right after the command's own payload (`payload_length` bytes), whatever the
// family: on an ESP32-family ROM the last two bytes are reserved zeros, so "the last two bytes"
// would make every failure look like success. A reply too short for payload + status still
// counts as a failure when its first byte says so (a ROM refusing a command sends no payload).
// nullopt: the reply carries no readable status at all.
std::optional<status> read_status(byte_view data, std::size_t payload_length);

// "flash write error (the ROM read back different data)" for 0x08; unknown codes get a generic text.
std::string_view rom_error_text(std::uint8_t code);

// "0x08 flash write error (…)": the code and its meaning, for messages.
std::string describe_rom_error(std::uint8_t code);

// What a user can do about it, one sentence.
std::string_view rom_error_hint(std::uint8_t code);

// The ROM's own error codes (§1.3); rom_error_text gives each its meaning.
inline constexpr std::uint8_t rom_error_invalid_message = 0x05;
inline constexpr std::uint8_t rom_error_failed = 0x06;
inline constexpr std::uint8_t rom_error_checksum = 0x07;
inline constexpr std::uint8_t rom_error_flash_write = 0x08;
inline constexpr std::uint8_t rom_error_flash_read = 0x09;
inline constexpr std::uint8_t rom_error_read_length = 0x0A;
inline constexpr std::uint8_t rom_error_deflate = 0x0B;
inline constexpr std::uint8_t rom_error_deflate_checksum = 0x0C;
inline constexpr std::uint8_t rom_error_deflate_param = 0x0D;
inline constexpr std::uint8_t rom_error_ram_size = 0x0E;
inline constexpr std::uint8_t rom_error_ram_address = 0x0F;

// esptool's legacy flasher stub's error codes (§1.3), 2 status bytes on every chip.
inline constexpr std::uint8_t stub_error_bad_data_length = 0xC0;
inline constexpr std::uint8_t stub_error_checksum = 0xC1;  // 0x07 from a ROM
inline constexpr std::uint8_t stub_error_bad_block_size = 0xC2;
inline constexpr std::uint8_t stub_error_invalid_command = 0xC3;
inline constexpr std::uint8_t stub_error_spi_failed = 0xC4;
inline constexpr std::uint8_t stub_error_not_in_flash_mode = 0xC6;
inline constexpr std::uint8_t stub_error_inflate = 0xC7;
inline constexpr std::uint8_t stub_error_not_enough_data = 0xC8;
inline constexpr std::uint8_t stub_error_too_much_data = 0xC9;
inline constexpr std::uint8_t stub_error_not_implemented = 0xFF;

}  // namespace otaflash::rom
