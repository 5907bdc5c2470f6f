#include <otaflash/chip/chip.hpp>

#include <array>
#include <cctype>

namespace otaflash {
namespace {

// --- flash header codes (rom-bootloader.md §8.1) ---------------------------------------------------
constexpr flash_code esp8266_sizes[] = {{0x0, "512KB"}, {0x1, "256KB"}, {0x2, "1MB"},     {0x3, "2MB"},
                                        {0x4, "4MB"},   {0x5, "2MB-c1"}, {0x6, "4MB-c1"}, {0x8, "8MB"},
                                        {0x9, "16MB"}};
constexpr flash_code esp32_sizes[] = {{0x0, "1MB"},  {0x1, "2MB"},  {0x2, "4MB"},  {0x3, "8MB"},
                                      {0x4, "16MB"}, {0x5, "32MB"}, {0x6, "64MB"}, {0x7, "128MB"}};

constexpr flash_code freq_80_40_26_20[] = {{0xF, "80m"}, {0x0, "40m"}, {0x1, "26m"}, {0x2, "20m"}};
constexpr flash_code freq_c2[] = {{0xF, "60m"}, {0x0, "30m"}, {0x1, "20m"}, {0x2, "15m"}};
constexpr flash_code freq_h[] = {{0xF, "48m"}, {0x0, "24m"}, {0x1, "16m"}, {0x2, "12m"}};
constexpr flash_code freq_80_40_20[] = {{0xF, "80m"}, {0x0, "40m"}, {0x2, "20m"}};
// esptool writes 0 for both 80 and 40 MHz on the C6, so the code cannot tell them apart.
constexpr flash_code freq_c6[] = {{0x0, "80m/40m"}, {0x2, "20m"}};

// --- ROM magic values at 0x40001000 (§3) ---------------------------------------------------------
constexpr std::uint32_t magic_esp8266[] = {0xFFF0C101};
constexpr std::uint32_t magic_esp32[] = {0x00F01D83};
constexpr std::uint32_t magic_esp32s2[] = {0x000007C6};
constexpr std::uint32_t magic_esp32s3[] = {0x9};
constexpr std::uint32_t magic_esp32c3[] = {0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F};
constexpr std::uint32_t magic_esp32c2[] = {0x6F51306F, 0x7C41A06F, 0x0C21E06F};
constexpr std::uint32_t magic_esp32c6[] = {0x2CE0806F};
constexpr std::uint32_t magic_esp32h2[] = {0xD7B73E80};
constexpr std::uint32_t magic_esp32c61[] = {0x33F0206F, 0x2421606F};
constexpr std::uint32_t magic_esp32c5[] = {0x1101406F, 0x5FD1406F};  // the second from esp-serial-flasher
constexpr std::uint32_t magic_esp32p4[] = {0x0, 0x0ADDBAD0};

// --- memory maps ---------------------------------------------------------------------------------
// Address ranges from the chips' technical reference manuals ("System and Memory" chapter) as
// esptool's targets/*.py MEMORY_MAP encode them; regions are listed so that the first match is the
// most specific name. One name per address (esptool prints every overlapping name).
using R = memory_region;
using K = region_kind;

// The ESP8266 has 64 KiB of IRAM at 0x40100000; esptool names only the lower 32 KiB (the upper
// half is flash cache by default), but code does load there (eboot, small images), so it is IRAM.
constexpr R map_esp8266[] = {
    {0x3FFE8000, 0x40000000, K::dram, "DRAM"},
    {0x40000000, 0x40010000, K::rom, "ROM"},
    {0x40100000, 0x40110000, K::iram, "IRAM"},
    {0x40200000, 0x40300000, K::irom, "IROM"},
};
constexpr R map_esp32[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x3F400000, 0x3F800000, K::drom, "DROM"},
    {0x3F800000, 0x3FC00000, K::extram, "EXTRAM_DATA"},
    {0x3FF80000, 0x3FF82000, K::rtc_dram, "RTC_DRAM"},
    {0x3FFAE000, 0x40000000, K::dram, "DRAM"},
    {0x40000000, 0x40070000, K::rom, "ROM"},
    {0x40070000, 0x40080000, K::cache, "CACHE"},
    {0x40080000, 0x400C0000, K::iram, "IRAM"},
    {0x400C0000, 0x400C2000, K::rtc_iram, "RTC_IRAM"},
    {0x400D0000, 0x40400000, K::irom, "IROM"},
    {0x50000000, 0x50002000, K::rtc_ram, "RTC_DATA"},
};
constexpr R map_esp32s2[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x3F000000, 0x3F400000, K::drom, "DROM"},
    {0x3F500000, 0x3FF80000, K::extram, "EXTRAM_DATA"},
    {0x3FF9E000, 0x3FFA0000, K::rtc_dram, "RTC_DRAM"},
    {0x3FFB0000, 0x40000000, K::dram, "DRAM"},
    {0x40000000, 0x40020000, K::rom, "ROM"},
    {0x40020000, 0x40070000, K::iram, "IRAM"},
    {0x40070000, 0x40072000, K::rtc_iram, "RTC_IRAM"},
    {0x40080000, 0x40800000, K::irom, "IROM"},
    {0x50000000, 0x50002000, K::rtc_ram, "RTC_DATA"},
};
constexpr R map_esp32s3[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x3C000000, 0x3E000000, K::drom, "DROM"},
    {0x3FC88000, 0x3FD00000, K::dram, "DRAM"},
    {0x40000000, 0x40060000, K::rom, "ROM"},
    {0x40370000, 0x403E0000, K::iram, "IRAM"},
    {0x42000000, 0x44000000, K::irom, "IROM"},
    {0x50000000, 0x50002000, K::rtc_ram, "RTC_DATA"},
    {0x600FE000, 0x60100000, K::rtc_ram, "RTC_RAM"},
};
constexpr R map_esp32c3[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x3C000000, 0x3C800000, K::drom, "DROM"},
    {0x3FC80000, 0x3FCE0000, K::dram, "DRAM"},
    {0x40000000, 0x40060000, K::rom, "ROM"},
    {0x4037C000, 0x403E0000, K::iram, "IRAM"},
    {0x42000000, 0x42800000, K::irom, "IROM"},
    {0x50000000, 0x50002000, K::rtc_ram, "RTC_RAM"},
};
constexpr R map_esp32c2[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x3C000000, 0x3C400000, K::drom, "DROM"},
    {0x3FCA0000, 0x3FCE0000, K::dram, "DRAM"},
    {0x40000000, 0x40090000, K::rom, "ROM"},
    {0x4037C000, 0x403C0000, K::iram, "IRAM"},
    {0x42000000, 0x42400000, K::irom, "IROM"},
};
// The RISC-V chips below see one SRAM at the same address on both buses ("SRAM") and map flash
// through one window; where esptool splits the window into IROM/DROM halves, so do we.
constexpr R map_esp32c6[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x40000000, 0x40050000, K::rom, "ROM"},
    {0x40800000, 0x40880000, K::sram, "SRAM"},
    {0x42000000, 0x42800000, K::irom, "IROM"},
    {0x42800000, 0x43000000, K::drom, "DROM"},
    {0x50000000, 0x50004000, K::rtc_ram, "LP_RAM"},
};
constexpr R map_esp32h2[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x40000000, 0x40020000, K::rom, "ROM"},
    {0x40800000, 0x40850000, K::sram, "SRAM"},
    {0x42000000, 0x42800000, K::irom, "IROM"},
    {0x42800000, 0x43000000, K::drom, "DROM"},
    {0x50000000, 0x50001000, K::rtc_ram, "LP_RAM"},
};
constexpr R map_esp32p4[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x30100000, 0x30102000, K::sram, "TCM"},
    {0x40000000, 0x4C000000, K::flash, "FLASH"},
    {0x4FC00000, 0x4FC20000, K::rom, "ROM"},
    {0x4FF00000, 0x4FFC0000, K::sram, "L2MEM"},
    {0x50108000, 0x50110000, K::rtc_ram, "LP_RAM"},
};
constexpr R map_esp32c61[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x40000000, 0x40050000, K::rom, "ROM"},
    {0x40800000, 0x40860000, K::sram, "SRAM"},
    {0x42000000, 0x46000000, K::flash, "FLASH"},
    {0x50000000, 0x50004000, K::rtc_ram, "LP_RAM"},
};
constexpr R map_esp32c5[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x40000000, 0x40040000, K::rom, "ROM"},
    {0x40800000, 0x40860000, K::sram, "SRAM"},
    {0x42000000, 0x44000000, K::flash, "FLASH"},
    {0x50000000, 0x50004000, K::rtc_ram, "LP_RAM"},
};
constexpr R map_esp32h4[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x40000000, 0x40050000, K::rom, "ROM"},
    {0x40810000, 0x40860000, K::sram, "SRAM"},
    {0x40860000, 0x40868000, K::cache, "CACHE"},
    {0x42000000, 0x44000000, K::flash, "FLASH"},
};
constexpr R map_esp32s31[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
    {0x2E000000, 0x2E008000, K::rtc_ram, "LP_RAM"},
    {0x2F000000, 0x2F080000, K::sram, "SRAM"},
    {0x40000000, 0x50000000, K::flash, "FLASH"},
};
constexpr R map_padding_only[] = {
    {0x00000000, 0x00010000, K::padding, "PADDING"},
};

constexpr std::string_view src_exact = "technical reference manual; esptool targets MEMORY_MAP";
constexpr std::string_view src_esptool_approx =
    "esptool targets MEMORY_MAP as quoted in esp-hal's linker scripts; not checked on a real image";

// SPI controller register layouts A/B/C (§2.2); the base differs per chip.
constexpr spi_flash_registers spi_layout_a(std::uint32_t base) { return {base, 0x1C, 0x20, 0x24, 0, 0, 0x40}; }
constexpr spi_flash_registers spi_layout_b(std::uint32_t base) { return {base, 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80}; }
constexpr spi_flash_registers spi_layout_c(std::uint32_t base) { return {base, 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58}; }

// Chips with a chip_id and a ROM like the S3's; only the identity and the map differ.
constexpr chip_info modern(chip id, std::string_view name, std::string_view display, std::uint16_t chip_id,
                           std::span<const std::uint32_t> magic, std::uint32_t bootloader_offset,
                           std::span<const flash_code> freqs, std::span<const memory_region> map,
                           map_accuracy accuracy, std::string_view source, std::uint32_t spi_base,
                           std::uint32_t uart_clkdiv_reg = 0) {
    return chip_info{id,   name,  display, chip_id, magic, true,  bootloader_offset, esp32_sizes, freqs, 4,
                     true, true,  true,    true,    true,  20,    16,                3232,        map,   accuracy,
                     source, spi_layout_c(spi_base), uart_clkdiv_reg, 1, 115200};
}

// The ROM serial-flashing extras of one row; `uart_clkdiv_reg` where the baud correction needs the
// crystal estimate and the row does not give the register yet.
constexpr chip_info with_rom(chip_info c, rom_baud_quirk quirk, bool read_flash_slow,
                             std::uint32_t uart_clkdiv_reg = 0) {
    c.baud_quirk = quirk;
    c.rom_read_flash_slow = read_flash_slow;
    if (uart_clkdiv_reg != 0) c.uart_clkdiv_reg = uart_clkdiv_reg;
    return c;
}

constexpr std::array<chip_info, 15> table = {{
    with_rom({chip::esp8266, "esp8266", "ESP8266", std::nullopt, magic_esp8266, false, 0x0, esp8266_sizes,
              freq_80_40_26_20, 2, false, false, false, false, false, 0, 0, 8266, map_esp8266, map_accuracy::exact,
              src_exact, spi_layout_a(0x60000200), 0x60000014, 2, 74880},
             rom_baud_quirk::none, false),
    with_rom({chip::esp32, "esp32", "ESP32", 0, magic_esp32, false, 0x1000, esp32_sizes, freq_80_40_26_20, 4, true,
              true, true, true, false, 0, 32, 3232, map_esp32, map_accuracy::exact, src_exact, spi_layout_b(0x3FF42000),
              0x3FF40014, 1, 115200},
             rom_baud_quirk::esp32_rc_clock, true),
    {chip::esp32s2, "esp32s2", "ESP32-S2", 2, magic_esp32s2, false, 0x1000, esp32_sizes, freq_80_40_26_20, 4, true,
     true, true, true, true, 12, 16, 3232, map_esp32s2, map_accuracy::exact, src_exact, spi_layout_c(0x3F402000),
     0x3F400014, 1, 115200},
    modern(chip::esp32s3, "esp32s3", "ESP32-S3", 9, magic_esp32s3, 0x0, freq_80_40_26_20, map_esp32s3,
           map_accuracy::exact, src_exact, 0x60002000, 0x60000014),
    modern(chip::esp32c3, "esp32c3", "ESP32-C3", 5, magic_esp32c3, 0x0, freq_80_40_26_20, map_esp32c3,
           map_accuracy::exact, src_exact, 0x60002000, 0x60000014),
    with_rom(modern(chip::esp32c2, "esp32c2", "ESP32-C2", 12, magic_esp32c2, 0x0, freq_c2, map_esp32c2,
                    map_accuracy::exact, src_exact, 0x60002000),
             rom_baud_quirk::c2_26mhz_crystal, true, 0x60000014),
    modern(chip::esp32c6, "esp32c6", "ESP32-C6", 13, magic_esp32c6, 0x0, freq_c6, map_esp32c6,
           map_accuracy::approximate, src_esptool_approx, 0x60003000),
    modern(chip::esp32h2, "esp32h2", "ESP32-H2", 16, magic_esp32h2, 0x0, freq_h, map_esp32h2,
           map_accuracy::approximate, src_esptool_approx, 0x60003000),
    modern(chip::esp32p4, "esp32p4", "ESP32-P4", 18, magic_esp32p4, 0x2000, freq_80_40_26_20, map_esp32p4,
           map_accuracy::approximate, "esp-hal's ESP32-P4 linker script and the P4 TRM address layout", 0x5008D000),
    modern(chip::esp32c61, "esp32c61", "ESP32-C61", 20, magic_esp32c61, 0x0, freq_80_40_20, map_esp32c61,
           map_accuracy::approximate, src_esptool_approx, 0x60003000),
    with_rom(modern(chip::esp32c5, "esp32c5", "ESP32-C5", 23, magic_esp32c5, 0x2000, freq_80_40_20, map_esp32c5,
                    map_accuracy::approximate, src_esptool_approx, 0x60003000),
             rom_baud_quirk::c5_crystal, true, 0x60000014),
    modern(chip::esp32h21, "esp32h21", "ESP32-H21", 25, {}, 0x0, freq_h, map_esp32h2, map_accuracy::approximate,
           "assumed to match the ESP32-H2 (no public map found)", 0x60003000),
    modern(chip::esp32h4, "esp32h4", "ESP32-H4", 28, {}, 0x2000, freq_h, map_esp32h4, map_accuracy::approximate,
           src_esptool_approx, 0x60099000),
    modern(chip::esp32e22, "esp32e22", "ESP32-E22", 31, {}, 0x0, freq_80_40_26_20, map_padding_only,
           map_accuracy::unknown, "no public memory map found: segments are not named", 0xC3003000),
    modern(chip::esp32s31, "esp32s31", "ESP32-S31", 32, {}, 0x2000, freq_80_40_20, map_esp32s31,
           map_accuracy::approximate, "esp-hal's ESP32-S31 linker script (from ESP-IDF's memory.ld.in)", 0x20501000),
}};

constexpr bool table_is_indexed_by_enum() {
    for (std::size_t i = 0; i < table.size(); ++i)
        if (static_cast<std::size_t>(table[i].id) != i) return false;
    return true;
}
static_assert(table_is_indexed_by_enum(), "chip table rows must follow enum class chip");

struct retired_id {
    std::uint16_t id;
    std::string_view name;
};
// esptool loader.py UNSUPPORTED_CHIPS: pre-production silicon whose images no ROM accepts today.
constexpr retired_id retired_ids[] = {{4, "ESP32-S3 beta 2"}, {6, "ESP32-S3 beta 3"},  {7, "ESP32-C6 beta"},
                                      {10, "ESP32-H2 beta 1"}, {14, "ESP32-H2 beta 2"}, {17, "ESP32-C5 beta 3"}};

std::optional<std::string_view> label_of(std::span<const flash_code> codes, std::uint8_t code) noexcept {
    for (const auto& c : codes)
        if (c.code == code) return c.label;
    return std::nullopt;
}

}  // namespace

bool is_executable_ram(region_kind kind) noexcept {
    return kind == region_kind::iram || kind == region_kind::sram || kind == region_kind::rtc_iram ||
           kind == region_kind::rtc_ram;
}

bool is_ram(region_kind kind) noexcept {
    return is_executable_ram(kind) || kind == region_kind::dram || kind == region_kind::rtc_dram;
}

bool in_ram(const chip_info& c, std::uint32_t address, std::uint64_t size, bool executable) noexcept {
    const auto* r = find_region(c, address);
    if (!r || !(executable ? is_executable_ram(r->kind) : is_ram(r->kind))) return false;
    return std::uint64_t{address} + size <= r->end;
}

bool in_bootloader_ram(const chip_info& c, std::uint32_t address) noexcept {
    struct window {
        chip id;
        std::uint32_t start, end;
    };
    static constexpr window windows[] = {
        {chip::esp32, 0x40078000, 0x40080000},
        {chip::esp32c3, 0x403C0000, 0x403E0000},
        {chip::esp32c3, 0x3FCC0000, 0x3FCE0000},
    };
    for (const auto& w : windows)
        if (w.id == c.id && address >= w.start && address < w.end) return true;
    return false;
}

std::span<const chip_info> all_chips() noexcept { return table; }
const chip_info& info(chip c) noexcept { return table[static_cast<std::size_t>(c)]; }
std::string_view name(chip c) noexcept { return info(c).name; }

const chip_info* find_chip(std::string_view wanted) noexcept {
    // Compare with separators dropped and case folded: "ESP32-C3" == "esp32c3" == "esp32_c3".
    auto next = [](std::string_view s, std::size_t& i) -> int {
        while (i < s.size() && (s[i] == '-' || s[i] == '_')) ++i;
        return i < s.size() ? std::tolower(static_cast<unsigned char>(s[i++])) : -1;
    };
    for (const auto& c : table) {
        std::size_t i = 0, j = 0;
        int a = 0, b = 0;
        do {
            a = next(wanted, i);
            b = next(c.name, j);
        } while (a == b && a != -1);
        if (a == b) return &c;
    }
    return nullptr;
}

chip_id_match find_chip_by_id(std::uint16_t image_chip_id) noexcept {
    for (const auto& c : table)
        if (c.image_chip_id == image_chip_id) return {chip_id_status::known, &c, {}};
    for (const auto& r : retired_ids)
        if (r.id == image_chip_id) return {chip_id_status::retired, nullptr, r.name};
    return {chip_id_status::unknown, nullptr, {}};
}

const chip_info* find_chip_by_magic(std::uint32_t magic) noexcept {
    for (const auto& c : table)
        for (auto m : c.rom_magic)
            if (m == magic) return &c;
    return nullptr;
}

const memory_region* find_region(const chip_info& c, std::uint32_t address) noexcept {
    for (const auto& r : c.memory_map)
        if (address >= r.start && address < r.end) return &r;
    return nullptr;
}

std::optional<std::string_view> flash_size_label(const chip_info& c, std::uint8_t code) noexcept {
    return label_of(c.flash_sizes, code);
}
std::optional<std::string_view> flash_freq_label(const chip_info& c, std::uint8_t code) noexcept {
    return label_of(c.flash_freqs, code);
}

std::string chip_name_list() {
    std::string out;
    for (const auto& c : table) {
        if (!out.empty()) out += ", ";
        out += c.name;
    }
    return out;
}

}  // namespace otaflash
