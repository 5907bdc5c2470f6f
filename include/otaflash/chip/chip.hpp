#pragma once
// The per-chip facts every layer needs (image parser, ROM flasher, OTA defaults), as one table.
// Sources: ../shared/protocols/rom-bootloader.md §3 (chip ids, magic values, bootloader offsets),
// §1.3 (ROM status length), §2 (ROM command support), §7, §8.1 (flash codes), §11.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace otaflash {

enum class chip : std::uint8_t {
    esp8266,
    esp32,
    esp32s2,
    esp32s3,
    esp32c3,
    esp32c2,
    esp32c6,
    esp32h2,
    esp32p4,
    esp32c61,
    esp32c5,
    esp32h21,
    esp32h4,
    esp32e22,
    esp32s31,
};

// What a range of the address space holds; the image parser names segments with it and uses
// `executable RAM` to tell an ESP8266 image from an ESP32-family one.
enum class region_kind : std::uint8_t {
    padding,    // load address 0…0xFFFF: dummy segments esptool inserts to align flash segments
    iram,       // instruction RAM
    dram,       // data RAM
    sram,       // one internal SRAM seen on both buses at the same address (RISC-V chips)
    irom,       // flash mapped for instructions
    drom,       // flash mapped for data
    flash,      // flash mapped for both
    rom,        // mask ROM
    rtc_iram,   // RTC/LP fast memory, instruction bus
    rtc_dram,   // RTC/LP fast memory, data bus
    rtc_ram,    // RTC/LP memory on both buses, or RTC slow memory
    extram,     // external PSRAM
    cache,      // internal SRAM used as cache
};

bool is_executable_ram(region_kind kind) noexcept;
// Internal RAM of any bus (what a ROM loads MEM_BEGIN uploads into).
bool is_ram(region_kind kind) noexcept;

struct memory_region {
    std::uint32_t start;  // first address
    std::uint32_t end;    // one past the last address
    region_kind kind;
    std::string_view name;
};

// The SPI flash controller registers a host drives with READ_REG/WRITE_REG to run a flash
// command such as RDID (§2.2): offsets from `base`; 0 = no such register on this chip.
struct spi_flash_registers {
    std::uint32_t base = 0;
    std::uint16_t usr = 0, usr1 = 0, usr2 = 0, mosi_dlen = 0, miso_dlen = 0, w0 = 0;
};

enum class map_accuracy : std::uint8_t { exact, approximate, unknown };

// One value of the flash size (high nibble of header byte 3) or frequency (low nibble) field.
struct flash_code {
    std::uint8_t code;
    std::string_view label;
};

// How a ROM's CHANGE_BAUDRATE argument must be skewed so that the chip really lands on the rate
// the host switches to (rom-bootloader.md §6).
enum class rom_baud_quirk : std::uint8_t {
    none,
    esp32_rc_clock,   // ESP32: the ROM estimated its crystal with the drifting 8 MHz RC clock
    c2_26mhz_crystal, // ESP32-C2: the ROM assumes 40 MHz; a 26 MHz crystal needs new × 40 / 26
    c5_crystal,       // ESP32-C5: the ROM may expect 40 MHz on a 48 MHz crystal or the reverse
};

struct chip_info {
    chip id;
    std::string_view name;                   // what --chip takes and JSON reports: "esp32c3"
    std::string_view display_name;           // "ESP32-C3"
    std::optional<std::uint16_t> image_chip_id;  // extended header / GET_SECURITY_INFO; none on ESP8266
    std::span<const std::uint32_t> rom_magic;    // READ_REG 0x40001000 values (empty: use chip_id)
    bool detect_by_chip_id;                  // esptool HEAD asks GET_SECURITY_INFO first
    std::uint32_t bootloader_offset;         // flash offset of the first-stage image
    std::span<const flash_code> flash_sizes;
    std::span<const flash_code> flash_freqs;
    std::uint8_t rom_status_length;          // status bytes at the end of a ROM reply
    bool rom_deflate;                        // FLASH_DEFL_* in ROM
    bool rom_md5;                            // SPI_FLASH_MD5 in ROM
    bool rom_change_baud;                    // CHANGE_BAUDRATE in ROM
    bool rom_spi_attach;                     // SPI_ATTACH / SPI_SET_PARAMS in ROM
    bool rom_begin_encrypt_word;             // FLASH_BEGIN takes a fifth `encrypted` word
    std::uint8_t security_info_length;       // GET_SECURITY_INFO payload (0 = unsupported)
    std::uint8_t encrypted_write_align;      // FLASH_ENCRYPTED_WRITE_ALIGN (0 = no flash encryption)
    std::uint16_t ota_port;                  // ArduinoOTA default UDP port
    std::span<const memory_region> memory_map;  // ordered: the first matching region names an address
    map_accuracy map_quality;
    std::string_view map_source;
    // ROM-side facts (§2.2, §3, §11), used by the emulated ROM and a host reading flash ID or crystal.
    spi_flash_registers spi_registers{};
    std::uint32_t uart_clkdiv_reg = 0;         // crystal estimate register (0 = not known)
    std::uint8_t uart_clkdiv_divider = 1;      // crystal = baud * (CLKDIV & 0xFFFFF) / 1e6 / divider
    std::uint32_t rom_boot_log_baud = 115200;  // the ROM's banner rate (ESP8266 with 26 MHz crystal: 74880)
    // ROM serial flashing: how CHANGE_BAUDRATE must be skewed (§6); READ_FLASH_SLOW in ROM (§2).
    rom_baud_quirk baud_quirk = rom_baud_quirk::none;
    bool rom_read_flash_slow = true;
};

inline constexpr std::uint32_t chip_detect_magic_reg = 0x40001000;

std::span<const chip_info> all_chips() noexcept;
const chip_info& info(chip c) noexcept;
std::string_view name(chip c) noexcept;

// "esp32c3", "ESP32-C3", "esp32_c3" all name the same chip.
const chip_info* find_chip(std::string_view name) noexcept;

enum class chip_id_status : std::uint8_t { known, retired, unknown };
struct chip_id_match {
    chip_id_status status;
    const chip_info* chip;           // set when known
    std::string_view retired_name;   // set when retired, e.g. "ESP32-S3 beta 2"
};
chip_id_match find_chip_by_id(std::uint16_t image_chip_id) noexcept;

// nullptr when no chip reports this value. Note that ESP32-P4 is listed with 0x0 (esptool v4.8.1),
// which a caller may prefer to treat as "read failed" and confirm with GET_SECURITY_INFO.
const chip_info* find_chip_by_magic(std::uint32_t magic) noexcept;

// nullptr when the address lies in no region of the chip's map.
const memory_region* find_region(const chip_info& c, std::uint32_t address) noexcept;
// Whether `address` lies where ESP-IDF's second-stage bootloader loads itself: RAM an application
// never loads into, so that the bootloader can load the application around itself (ESP32: the
// APP CPU cache window 0x40078000…0x40080000, its iram_loader_seg; ESP32-C3: the top 128 KiB of
// SRAM, where bootloader_esp32c3.bin loads). False on chips where this is not established.
bool in_bootloader_ram(const chip_info& c, std::uint32_t address) noexcept;

// Whether [address, address + size) lies inside one internal-RAM region of the chip's map
// (executable RAM only, with `executable`).
bool in_ram(const chip_info& c, std::uint32_t address, std::uint64_t size, bool executable = false) noexcept;

std::optional<std::string_view> flash_size_label(const chip_info& c, std::uint8_t code) noexcept;
std::optional<std::string_view> flash_freq_label(const chip_info& c, std::uint8_t code) noexcept;

// "esp8266, esp32, esp32s2, …" for hints.
std::string chip_name_list();

}  // namespace otaflash
