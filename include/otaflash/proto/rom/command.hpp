#pragma once
// ROM bootloader commands: opcodes and request payloads, byte for byte as the ROM expects them
// (../shared/protocols/rom-bootloader.md §2). Pure builders; framing is packet.hpp + slip.hpp.

#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace otaflash::rom {

enum class opcode : std::uint8_t {
    flash_begin = 0x02,
    flash_data = 0x03,
    flash_end = 0x04,
    mem_begin = 0x05,
    mem_end = 0x06,
    mem_data = 0x07,
    sync = 0x08,
    write_reg = 0x09,
    read_reg = 0x0A,
    spi_set_params = 0x0B,
    spi_attach = 0x0D,
    read_flash_slow = 0x0E,
    change_baudrate = 0x0F,
    flash_defl_begin = 0x10,
    flash_defl_data = 0x11,
    flash_defl_end = 0x12,
    spi_flash_md5 = 0x13,
    get_security_info = 0x14,
};

// Opcodes only esptool's flasher stub knows (§2).
inline constexpr std::uint8_t stub_erase_flash = 0xD0;
inline constexpr std::uint8_t stub_erase_region = 0xD1;
inline constexpr std::uint8_t stub_read_flash = 0xD2;

// "FLASH_DATA", or "0x2a" for an opcode we do not know.
std::string opcode_name(std::uint8_t op);

inline constexpr std::uint32_t rom_block_size = 0x400;     // FLASH_DATA / FLASH_DEFL_DATA block on every ROM
inline constexpr std::uint32_t stub_block_size = 0x4000;   // the same blocks once a flasher stub runs
inline constexpr std::uint32_t ram_block_size = 0x1800;    // MEM_DATA block (the last one is not padded)
inline constexpr std::uint32_t flash_sector_size = 0x1000; // erase unit
inline constexpr std::uint32_t flash_block_size = 0x10000; // the larger erase unit of SPI NOR flash
inline constexpr std::uint32_t sectors_per_block = flash_block_size / flash_sector_size;
inline constexpr std::size_t rom_md5_hex_length = 32;      // SPI_FLASH_MD5 reply payload on a ROM
inline constexpr std::size_t stub_md5_length = 16;         // ... and from a flasher stub: the raw digest
inline constexpr std::size_t read_flash_slow_reply = 64;   // READ_FLASH_SLOW always returns 64 bytes
inline constexpr std::uint32_t read_flash_slow_max = 64;

// `reply_payload` for replies whose payload length varies (GET_SECURITY_INFO: 20 bytes, 12 on
// ESP32-S2): everything before the family's status bytes.
inline constexpr std::size_t reply_payload_rest = static_cast<std::size_t>(-1);

// One request: what goes on the wire, plus how many payload bytes the reply carries before its
// status bytes (the status is read there, never from the end of the reply).
struct command {
    opcode op{};
    bytes payload;
    std::uint32_t checksum = 0;
    std::size_t reply_payload = 0;
};

// C0-framed, escaped request bytes, ready for the port.
bytes frame(const command& cmd);

command sync_command();
command read_reg(std::uint32_t address);
command write_reg(std::uint32_t address, std::uint32_t value, std::uint32_t mask = 0xFFFFFFFF,
                  std::uint32_t delay_us = 0);
// ROM form: u32 pin config (0 = default SPI pins) and a zero `is_legacy` byte padded to a word.
command spi_attach(std::uint32_t pin_config = 0);
// A flasher stub takes the pin config word alone.
command stub_spi_attach(std::uint32_t pin_config = 0);
// The parameters esptool sends; only the total size matters to the ROM (it assumes 2 MB otherwise).
command spi_set_params(std::uint32_t total_size);
// `rom_baud` is what the ROM is told (after crystal corrections); a ROM takes 0 as the old rate.
command change_baudrate(std::uint32_t rom_baud, std::uint32_t old_baud = 0);

// The fifth `encrypted` word goes to ESP32-S2 and later ROMs only (ESP8266 and ESP32 ROMs take
// exactly 16 bytes): pass nullopt to leave it out.
command flash_begin(std::uint32_t erase_size, std::uint32_t blocks, std::uint32_t block_size, std::uint32_t offset,
                    std::optional<bool> encrypted);
command flash_data(std::uint32_t sequence, byte_view block);
command flash_defl_begin(std::uint32_t uncompressed_size, std::uint32_t blocks, std::uint32_t block_size,
                         std::uint32_t offset, std::optional<bool> encrypted);
command flash_defl_data(std::uint32_t sequence, byte_view block);

// FLASH_END / FLASH_DEFL_END flag word: 0 makes the loader reboot, 1 makes a ROM leave the
// loader and run the application.
enum class end_action : std::uint32_t { reboot = 0, run_application = 1 };
command flash_end(end_action action);
command flash_defl_end(end_action action);

// `digest_length`: rom_md5_hex_length from a ROM, stub_md5_length from a flasher stub.
command spi_flash_md5(std::uint32_t address, std::uint32_t size, std::size_t digest_length = rom_md5_hex_length);
// RAM download: MEM_BEGIN(size, blocks, block size, address), MEM_DATA blocks, MEM_END. `entry`
// set: jump there; nullopt: stay in the loader.
command mem_begin(std::uint32_t size, std::uint32_t blocks, std::uint32_t block_size, std::uint32_t address);
command mem_data(std::uint32_t sequence, byte_view block);
command mem_end(std::optional<std::uint32_t> entry);
command read_flash_slow(std::uint32_t address, std::uint32_t length);
// The reply payload is 20 bytes (12 on ESP32-S2), found from the reply length.
command get_security_info();

// --- write geometry --------------------------------------------------------------------------

std::uint32_t block_count(std::uint64_t size, std::uint32_t block_size) noexcept;

// The ESP8266 ROM erases more than FLASH_BEGIN asks for inside the first 64 KiB block it
// touches; esptool's compensation (targets/esp8266.py get_erase_size), which the notes §4.2 give.
std::uint32_t esp8266_erase_size(std::uint32_t offset, std::uint32_t size) noexcept;

// FLASH_DEFL_BEGIN's size word for a ROM: the uncompressed size rounded up to a whole block.
std::uint32_t defl_begin_size(std::uint32_t uncompressed_size) noexcept;

// "0x00010000–0x0001ffff": a flash range for messages (size > 0).
std::string flash_range(std::uint32_t offset, std::uint64_t size);

}  // namespace otaflash::rom
