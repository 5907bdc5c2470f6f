#include <otaflash/proto/rom/status.hpp>

#include <otaflash/util/hex.hpp>

namespace otaflash::rom {

std::optional<status> read_status(byte_view data, std::size_t payload_length) {
    if (data.size() >= payload_length + 2) return status{data[payload_length] != 0, data[payload_length + 1]};
    if (!data.empty() && data[0] != 0) return status{true, data.size() >= 2 ? data[1] : std::uint8_t{0}};
    return std::nullopt;
}

std::string_view rom_error_text(std::uint8_t code) {
    switch (code) {
    case rom_error_invalid_message: return "invalid or unsupported command";
    case rom_error_failed: return "the ROM failed to carry out the command";
    case rom_error_checksum: return "data checksum error (bytes were corrupted on the way)";
    case rom_error_flash_write: return "flash write error (the ROM read back different data)";
    case rom_error_flash_read: return "flash read error";
    case rom_error_read_length: return "flash read length error";
    case rom_error_deflate: return "deflate (decompression) error";
    case rom_error_deflate_checksum: return "deflate Adler-32 checksum error";
    case rom_error_deflate_param: return "deflate parameter error";
    case 0x0E: return "invalid RAM binary size";
    case 0x0F: return "invalid RAM address";
    case 0x64: return "invalid parameter";
    case 0x65: return "invalid format";
    case 0x66: return "description too long";
    case 0x67: return "bad encoding description";
    case 0x69: return "insufficient storage";
    // Codes of esptool's flasher stub: never from a ROM, but a port left running a stub sends them.
    case 0xC0: return "bad data length (flasher stub)";
    case 0xC1: return "bad data checksum (flasher stub)";
    case 0xC2: return "bad block size (flasher stub)";
    case 0xC3: return "invalid command (flasher stub)";
    case 0xC4: return "SPI operation failed (flasher stub)";
    case 0xC5: return "SPI unlock failed (flasher stub)";
    case 0xC6: return "not in flash mode (flasher stub)";
    case 0xC7: return "inflate error (flasher stub)";
    case 0xC8: return "not enough data (flasher stub)";
    case 0xC9: return "too much data (flasher stub)";
    case 0xFF: return "command not implemented (flasher stub)";
    default: break;
    }
    return code <= 0x04 ? "undefined error" : "unknown error code";
}

std::string describe_rom_error(std::uint8_t code) {
    return hex_digits(code, 2) + " " + std::string(rom_error_text(code));
}

std::string_view rom_error_hint(std::uint8_t code) {
    switch (code) {
    case rom_error_invalid_message: return "this ROM does not support the command; check --chip and that the ROM (not an application) answers";
    case rom_error_checksum:
        return "bytes were corrupted between this computer and the chip: try a lower --baud, a shorter cable or "
               "another USB port";
    case rom_error_flash_write:
    case rom_error_flash_read:
        return "the chip's flash did not store the data: run again (the region is erased first); if it keeps "
               "failing the flash is worn, write-protected or badly powered";
    case rom_error_deflate:
    case rom_error_deflate_checksum:
    case rom_error_deflate_param: return "the compressed stream was rejected: run again with --no-compress";
    default: break;
    }
    return "run the command again; if it keeps failing, run with -vv and report the log";
}

}  // namespace otaflash::rom
