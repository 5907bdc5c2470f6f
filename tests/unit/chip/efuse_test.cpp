// eFuse MAC and revision words against the formulas esptool reads them with (targets/*.py
// read_mac, get_major_chip_version, get_minor_chip_version), worked out by hand here.

#include <otaflash/chip/efuse.hpp>

#include <gtest/gtest.h>

#include <map>

using namespace otaflash;

namespace {

std::map<std::uint32_t, std::uint32_t> words_of(chip c, const chip_fuses& f) {
    std::map<std::uint32_t, std::uint32_t> out;
    for (const auto& w : encode_fuses(info(c), f)) out[w.address] = w.value;
    return out;
}

const mac_address mac{0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56};

}  // namespace

TEST(Efuse, Esp32WordsAreWhereEsptoolReadsThem) {
    auto w = words_of(chip::esp32, {mac, chip_revision{3, 1}});
    EXPECT_EQ(w[0x3FF5A004], 0xC4123456u);                // efuse word 1: MAC bytes 2..5
    EXPECT_EQ(w[0x3FF5A008] & 0xFFFF, 0x240Au);           // word 2 low half: bytes 0..1 (CRC above)
    EXPECT_EQ(w[0x3FF5A00C], 1u << 15);                   // word 3 bit 15: major bit 0
    EXPECT_EQ(w[0x3FF5A014], (1u << 20) | (1u << 24));    // word 5: major bit 1, minor 1
    EXPECT_EQ(w[0x3FF6607C], 1u << 31);                   // APB_CTL_DATE bit 31: major bit 2
    auto v1 = words_of(chip::esp32, {mac, chip_revision{1, 0}});
    EXPECT_EQ(v1[0x3FF5A00C], 1u << 15);
    EXPECT_EQ(v1[0x3FF5A014], 0u);
    EXPECT_EQ(v1[0x3FF6607C], 0u);
}

TEST(Efuse, Block1ChipsKeepTheMacAndRevisionInBlock1) {
    // ESP32-S2: BLOCK1 at 0x3F41A044; major word 3 bits 18..19, minor word 3 bit 20 : word 4 bits 4..6.
    auto s2 = words_of(chip::esp32s2, {mac, chip_revision{1, 9}});
    EXPECT_EQ(s2[0x3F41A044], 0xC4123456u);
    EXPECT_EQ(s2[0x3F41A048], 0x240Au);
    EXPECT_EQ(s2[0x3F41A050], (1u << 18) | (1u << 20));
    EXPECT_EQ(s2[0x3F41A054], 1u << 4);
    // ESP32-S3 (BLOCK1 0x60007044) and C3 (0x60008844): major word 5 bits 24..25, minor word 5
    // bit 23 : word 3 bits 18..20.
    for (auto [c, block1] : {std::pair{chip::esp32s3, 0x60007044u}, std::pair{chip::esp32c3, 0x60008844u}}) {
        auto w = words_of(c, {mac, chip_revision{2, 12}});
        EXPECT_EQ(w[block1], 0xC4123456u);
        EXPECT_EQ(w[block1 + 4], 0x240Au);
        EXPECT_EQ(w[block1 + 20], (2u << 24) | (1u << 23));
        EXPECT_EQ(w[block1 + 12], 4u << 18);
    }
}

TEST(Efuse, Esp8266OtpHoldsTheOuiAndTheLowBytes) {
    auto w = words_of(chip::esp8266, {{0x5C, 0xCF, 0x7F, 0x12, 0x34, 0x56}, std::nullopt});
    EXPECT_EQ(w[0x3FF00050], 0x56000000u);
    EXPECT_EQ(w[0x3FF00054], 0x1234u);
    EXPECT_EQ(w[0x3FF0005C], 0x5CCF7Fu);
    // esptool's stock OUIs when word 0x5C is 0: 18:FE:34 (selector 0), AC:D0:74 (1), else unknown.
    const auto& c = info(chip::esp8266);
    EXPECT_EQ(format_mac(decode_fuses(c, std::vector<std::uint32_t>{0x56000000, 0x011234, 0})->mac), "ac:d0:74:12:34:56");
    EXPECT_EQ(format_mac(decode_fuses(c, std::vector<std::uint32_t>{0x56000000, 0x1234, 0})->mac), "18:fe:34:12:34:56");
    EXPECT_FALSE(decode_fuses(c, std::vector<std::uint32_t>{0x56000000, 0x021234, 0}));
}

TEST(Efuse, WhatIsWrittenReadsBackOnEveryChipWithALayout) {
    for (const auto& c : all_chips()) {
        const auto registers = fuse_registers(c);
        if (registers.empty()) continue;
        const chip_revision top = max_revision(c);
        const chip_fuses f{mac, top == chip_revision{} ? std::nullopt : std::optional<chip_revision>(top)};
        std::vector<std::uint32_t> values;
        auto words = encode_fuses(c, f);
        for (auto a : registers)
            for (const auto& w : words)
                if (w.address == a) values.push_back(w.value);
        auto back = decode_fuses(c, values);
        ASSERT_TRUE(back) << c.name;
        EXPECT_EQ(back->mac, mac) << c.name;
        EXPECT_EQ(back->revision, f.revision) << c.name;
    }
}

TEST(Efuse, MacAndRevisionText) {
    EXPECT_EQ(format_mac(*parse_mac("24:0A:C4:12:34:56")), "24:0a:c4:12:34:56");
    EXPECT_EQ(parse_mac("240ac4123456"), mac);
    EXPECT_EQ(parse_mac("24-0a-c4-12-34-56"), mac);
    EXPECT_FALSE(parse_mac("24:0a:c4:12:34"));
    EXPECT_FALSE(parse_mac("24:0a:c4:12:34:5g"));
    EXPECT_EQ(parse_revision("3.1"), (chip_revision{3, 1}));
    EXPECT_EQ(parse_revision("v0.4"), (chip_revision{0, 4}));
    EXPECT_EQ(parse_revision("301"), (chip_revision{3, 1}));
    EXPECT_FALSE(parse_revision("3."));
    EXPECT_FALSE(parse_revision("x"));
}
