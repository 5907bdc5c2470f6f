// The chip table against rom-bootloader.md §3/§7/§8.1/§1.3 and espota.md (OTA ports).

#include <otaflash/chip/chip.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace otaflash;

namespace {

struct expected_row {
    chip id;
    const char* name;
    int image_chip_id;  // -1: none
    std::uint32_t bootloader_offset;
};

// §3 table and §7, transcribed.
const expected_row rows[] = {
    {chip::esp8266, "esp8266", -1, 0x0},     {chip::esp32, "esp32", 0, 0x1000},
    {chip::esp32s2, "esp32s2", 2, 0x1000},   {chip::esp32c3, "esp32c3", 5, 0x0},
    {chip::esp32s3, "esp32s3", 9, 0x0},      {chip::esp32c2, "esp32c2", 12, 0x0},
    {chip::esp32c6, "esp32c6", 13, 0x0},     {chip::esp32h2, "esp32h2", 16, 0x0},
    {chip::esp32p4, "esp32p4", 18, 0x2000},  {chip::esp32c61, "esp32c61", 20, 0x0},
    {chip::esp32c5, "esp32c5", 23, 0x2000},  {chip::esp32h21, "esp32h21", 25, 0x0},
    {chip::esp32h4, "esp32h4", 28, 0x2000},  {chip::esp32e22, "esp32e22", 31, 0x0},
    {chip::esp32s31, "esp32s31", 32, 0x2000},
};

}  // namespace

TEST(ChipTable, HasEveryChipOnceWithTheDocumentedIdAndBootloaderOffset) {
    ASSERT_EQ(all_chips().size(), std::size(rows));
    for (const auto& row : rows) {
        const chip_info& c = info(row.id);
        EXPECT_EQ(c.id, row.id);
        EXPECT_EQ(c.name, row.name);
        if (row.image_chip_id < 0) {
            EXPECT_FALSE(c.image_chip_id.has_value()) << row.name;
        } else {
            EXPECT_EQ(c.image_chip_id, static_cast<std::uint16_t>(row.image_chip_id)) << row.name;
        }
        EXPECT_EQ(c.bootloader_offset, row.bootloader_offset) << row.name;
    }
}

TEST(ChipTable, RomCapabilitiesDifferBetweenEsp8266AndTheFamily) {
    const chip_info& e = info(chip::esp8266);
    EXPECT_EQ(e.rom_status_length, 2);
    EXPECT_FALSE(e.rom_deflate);
    EXPECT_FALSE(e.rom_md5);
    EXPECT_FALSE(e.rom_change_baud);
    EXPECT_FALSE(e.rom_spi_attach);
    EXPECT_EQ(e.ota_port, 8266);
    for (const auto& c : all_chips()) {
        if (c.id == chip::esp8266) continue;
        EXPECT_EQ(c.rom_status_length, 4) << c.name;
        EXPECT_TRUE(c.rom_deflate && c.rom_md5 && c.rom_change_baud && c.rom_spi_attach) << c.name;
        EXPECT_EQ(c.ota_port, 3232) << c.name;
    }
    EXPECT_FALSE(info(chip::esp32).rom_begin_encrypt_word);
    EXPECT_TRUE(info(chip::esp32s2).rom_begin_encrypt_word);
    EXPECT_EQ(info(chip::esp32s2).security_info_length, 12);
    EXPECT_EQ(info(chip::esp32c3).security_info_length, 20);
    EXPECT_EQ(info(chip::esp32).encrypted_write_align, 32);
    EXPECT_EQ(info(chip::esp32s3).encrypted_write_align, 16);
}

TEST(ChipTable, OnlyEsp8266Esp32AndS2AreDetectedByMagicFirst) {
    for (const auto& c : all_chips()) {
        const bool magic_first = c.id == chip::esp8266 || c.id == chip::esp32 || c.id == chip::esp32s2;
        EXPECT_EQ(c.detect_by_chip_id, !magic_first) << c.name;
    }
}

TEST(ChipLookup, ByNameIgnoresCaseAndSeparators) {
    for (const char* spelling : {"esp32c3", "esp32-c3", "ESP32-C3", "Esp32_C3", "ESP32C3"}) {
        const chip_info* c = find_chip(spelling);
        ASSERT_NE(c, nullptr) << spelling;
        EXPECT_EQ(c->id, chip::esp32c3) << spelling;
    }
    ASSERT_NE(find_chip("esp32"), nullptr);
    EXPECT_EQ(find_chip("esp32")->id, chip::esp32);
    EXPECT_EQ(find_chip("ESP8266")->id, chip::esp8266);
    EXPECT_EQ(find_chip("esp32-c61")->id, chip::esp32c61);
    EXPECT_EQ(find_chip("esp32s"), nullptr);   // no prefix matching
    EXPECT_EQ(find_chip("esp32c3x"), nullptr);
    EXPECT_EQ(find_chip(""), nullptr);
    EXPECT_EQ(find_chip("--"), nullptr);
}

TEST(ChipLookup, ByImageChipIdKnowsRetiredPreProductionIds) {
    for (const auto& row : rows) {
        if (row.image_chip_id < 0) continue;
        auto m = find_chip_by_id(static_cast<std::uint16_t>(row.image_chip_id));
        ASSERT_EQ(m.status, chip_id_status::known) << row.name;
        EXPECT_EQ(m.chip->id, row.id);
    }
    const std::pair<std::uint16_t, const char*> retired[] = {{4, "ESP32-S3 beta 2"},  {6, "ESP32-S3 beta 3"},
                                                             {7, "ESP32-C6 beta"},    {10, "ESP32-H2 beta 1"},
                                                             {14, "ESP32-H2 beta 2"}, {17, "ESP32-C5 beta 3"}};
    for (const auto& [id, label] : retired) {
        auto m = find_chip_by_id(id);
        EXPECT_EQ(m.status, chip_id_status::retired) << id;
        EXPECT_EQ(m.chip, nullptr);
        EXPECT_EQ(m.retired_name, label);
    }
    for (std::uint16_t id : {1, 3, 8, 11, 15, 19, 33, 0xFFFF}) EXPECT_EQ(find_chip_by_id(id).status, chip_id_status::unknown) << id;
}

TEST(ChipLookup, ByRomMagicValue) {
    const std::pair<std::uint32_t, chip> magic[] = {
        {0xFFF0C101, chip::esp8266}, {0x00F01D83, chip::esp32},   {0x000007C6, chip::esp32s2},
        {0x9, chip::esp32s3},        {0x6921506F, chip::esp32c3}, {0x1B31506F, chip::esp32c3},
        {0x4881606F, chip::esp32c3}, {0x4361606F, chip::esp32c3}, {0x6F51306F, chip::esp32c2},
        {0x7C41A06F, chip::esp32c2}, {0x0C21E06F, chip::esp32c2}, {0x2CE0806F, chip::esp32c6},
        {0xD7B73E80, chip::esp32h2}, {0x33F0206F, chip::esp32c61}, {0x2421606F, chip::esp32c61},
        {0x1101406F, chip::esp32c5}, {0x5FD1406F, chip::esp32c5}, {0x0ADDBAD0, chip::esp32p4},
    };
    for (const auto& [value, expected] : magic) {
        const chip_info* c = find_chip_by_magic(value);
        ASSERT_NE(c, nullptr) << std::hex << value;
        EXPECT_EQ(c->id, expected) << std::hex << value;
    }
    EXPECT_EQ(find_chip_by_magic(0x12345678), nullptr);
}

TEST(ChipTable, FlashSizeAndFrequencyCodesFollowEachFamily) {
    const chip_info& e = info(chip::esp8266);
    EXPECT_EQ(flash_size_label(e, 0x0), "512KB");
    EXPECT_EQ(flash_size_label(e, 0x1), "256KB");
    EXPECT_EQ(flash_size_label(e, 0x4), "4MB");
    EXPECT_EQ(flash_size_label(e, 0x6), "4MB-c1");
    EXPECT_EQ(flash_size_label(e, 0x9), "16MB");
    EXPECT_FALSE(flash_size_label(e, 0x7));
    const chip_info& s3 = info(chip::esp32s3);
    EXPECT_EQ(flash_size_label(s3, 0x0), "1MB");
    EXPECT_EQ(flash_size_label(s3, 0x2), "4MB");
    EXPECT_EQ(flash_size_label(s3, 0x7), "128MB");
    EXPECT_FALSE(flash_size_label(s3, 0x8));

    EXPECT_EQ(flash_freq_label(info(chip::esp32), 0xF), "80m");
    EXPECT_EQ(flash_freq_label(info(chip::esp32), 0x1), "26m");
    EXPECT_EQ(flash_freq_label(info(chip::esp32c2), 0xF), "60m");
    EXPECT_EQ(flash_freq_label(info(chip::esp32c2), 0x2), "15m");
    EXPECT_EQ(flash_freq_label(info(chip::esp32h2), 0x0), "24m");
    EXPECT_EQ(flash_freq_label(info(chip::esp32h4), 0xF), "48m");
    EXPECT_EQ(flash_freq_label(info(chip::esp32c5), 0x2), "20m");
    EXPECT_FALSE(flash_freq_label(info(chip::esp32c5), 0x1));
    EXPECT_EQ(flash_freq_label(info(chip::esp32c6), 0x0), "80m/40m");
    EXPECT_EQ(flash_freq_label(info(chip::esp32p4), 0x0), "40m");
}

TEST(MemoryMap, NamesAddressesOfTheExactlyKnownChips) {
    struct probe {
        chip c;
        std::uint32_t address;
        const char* region;  // nullptr: outside every region
    };
    const probe probes[] = {
        {chip::esp8266, 0x40100000, "IRAM"},  {chip::esp8266, 0x4010FFFF, "IRAM"},  {chip::esp8266, 0x40110000, nullptr},
        {chip::esp8266, 0x3FFE8000, "DRAM"},  {chip::esp8266, 0x3FFE7FFF, nullptr}, {chip::esp8266, 0x40201010, "IROM"},
        {chip::esp8266, 0x00000000, nullptr},
        {chip::esp32, 0x3FFB0000, "DRAM"},    {chip::esp32, 0x40080000, "IRAM"},    {chip::esp32, 0x400D0018, "IROM"},
        {chip::esp32, 0x3F400020, "DROM"},    {chip::esp32, 0x50000000, "RTC_DATA"}, {chip::esp32, 0x400C0000, "RTC_IRAM"},
        {chip::esp32, 0x00000000, "PADDING"}, {chip::esp32, 0x40400000, nullptr},
        {chip::esp32s2, 0x3FFB0000, "DRAM"},  {chip::esp32s2, 0x40020000, "IRAM"},  {chip::esp32s2, 0x40080020, "IROM"},
        {chip::esp32s2, 0x3F000020, "DROM"},
        {chip::esp32s3, 0x3FC88000, "DRAM"},  {chip::esp32s3, 0x40370000, "IRAM"},  {chip::esp32s3, 0x42000020, "IROM"},
        {chip::esp32s3, 0x3C000020, "DROM"},  {chip::esp32s3, 0x600FE000, "RTC_RAM"},
        {chip::esp32c3, 0x3FCD6100, "DRAM"},  {chip::esp32c3, 0x403C0000, "IRAM"},  {chip::esp32c3, 0x42000020, "IROM"},
        {chip::esp32c3, 0x3C000020, "DROM"},  {chip::esp32c3, 0x403E0000, nullptr},
        {chip::esp32c6, 0x40800000, "SRAM"},  {chip::esp32c6, 0x42800020, "DROM"},
        {chip::esp32p4, 0x4FF10000, "L2MEM"}, {chip::esp32p4, 0x40000020, "FLASH"},
    };
    for (const auto& p : probes) {
        const memory_region* r = find_region(info(p.c), p.address);
        if (!p.region) {
            EXPECT_EQ(r, nullptr) << name(p.c) << " " << std::hex << p.address;
        } else {
            ASSERT_NE(r, nullptr) << name(p.c) << " " << std::hex << p.address;
            EXPECT_EQ(r->name, p.region) << name(p.c) << " " << std::hex << p.address;
        }
    }
}

TEST(MemoryMap, EveryChipHasWellFormedRegionsAndSaysWhereTheyComeFrom) {
    for (const auto& c : all_chips()) {
        EXPECT_FALSE(c.memory_map.empty()) << c.name;
        EXPECT_FALSE(c.map_source.empty()) << c.name;
        for (const auto& r : c.memory_map) EXPECT_LT(r.start, r.end) << c.name << " " << r.name;
        if (c.map_quality != map_accuracy::unknown) {
            bool code = false;
            for (const auto& r : c.memory_map) code = code || is_executable_ram(r.kind);
            EXPECT_TRUE(code) << c.name << " has no executable RAM in its map";
        }
    }
    for (chip exact : {chip::esp8266, chip::esp32, chip::esp32s2, chip::esp32s3, chip::esp32c3})
        EXPECT_EQ(info(exact).map_quality, map_accuracy::exact) << name(exact);
}

TEST(ChipTable, NameListNamesEveryChip) {
    const std::string list = chip_name_list();
    for (const auto& c : all_chips()) EXPECT_NE(list.find(c.name), std::string::npos) << c.name;
    std::set<std::string_view> names;
    for (const auto& c : all_chips()) names.insert(c.name);
    EXPECT_EQ(names.size(), all_chips().size());
}
