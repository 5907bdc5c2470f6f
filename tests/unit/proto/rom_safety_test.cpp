// What is refused or warned about before the ROM erases anything.

#include <otaflash/proto/rom/flash_id.hpp>
#include <otaflash/proto/rom/flash_write.hpp>
#include <otaflash/proto/rom/safety.hpp>
#include <otaflash/util/gzip.hpp>
#include <otaflash/util/hex.hpp>

#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <zlib.h>

using namespace otaflash;
using namespace otaflash::rom;

namespace {

// The smallest ESP32 application image: one DROM segment that starts with an esp_app_desc_t.
bytes esp32_app_image(const std::string& project) {
    bytes img{0xE9, 1, 0x02, 0x20};  // one segment, DIO, 4MB / 40 MHz
    append_le32(img, 0x40080000);    // entry point in IRAM
    bytes ext(16, 0);
    ext[0] = 0xEE;                   // chip id 0 (ESP32), no hash appended
    img.insert(img.end(), ext.begin(), ext.end());
    bytes desc(256, 0);
    bytes magic;
    append_le32(magic, 0xABCD5432);
    std::copy(magic.begin(), magic.end(), desc.begin());
    std::copy(project.begin(), project.end(), desc.begin() + 0x30);
    append_le32(img, 0x3F400020);
    append_le32(img, static_cast<std::uint32_t>(desc.size()));
    img.insert(img.end(), desc.begin(), desc.end());
    std::uint8_t checksum = 0xEF;
    for (auto b : desc) checksum ^= b;
    while (img.size() % 16 != 15) img.push_back(0);
    img.push_back(checksum);
    return img;
}

flash_size_choice four_mb() { return {4u << 20, "--flash-size", {}}; }

bytes gzip_of(const bytes& data) {
    z_stream s{};
    deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    bytes out(deflateBound(&s, static_cast<uLong>(data.size())) + 32);
    s.next_in = const_cast<Bytef*>(data.data());
    s.avail_in = static_cast<uInt>(data.size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    deflate(&s, Z_FINISH);
    out.resize(s.total_out);
    deflateEnd(&s);
    return out;
}

}  // namespace

TEST(RomSafety, FlashSizeText) {
    EXPECT_EQ(parse_flash_size("4MB"), 4u << 20);
    EXPECT_EQ(parse_flash_size("4m"), 4u << 20);
    EXPECT_EQ(parse_flash_size("512KB"), 512u << 10);
    EXPECT_EQ(parse_flash_size("2MB-c1"), 2u << 20);
    EXPECT_EQ(parse_flash_size("0x400000"), 4u << 20);
    EXPECT_EQ(parse_flash_size("1048576"), 1u << 20);
    for (const char* bad : {"", "MB", "4GB", "-1", "0", "4 MB", "0x", "0xZZ", "5000MB"})
        EXPECT_FALSE(parse_flash_size(bad)) << bad;
}

TEST(RomSafety, OverlappingSectorsAreRefused) {
    std::vector<region_input> ok = {{0x0, bytes(0x1000, 1), "a.bin"}, {0x1000, bytes(10, 2), "b.bin"}};
    EXPECT_FALSE(check_layout(ok));
    // b starts in the sector a ends in: writing b would erase a's tail.
    std::vector<region_input> bad = {{0x1000, bytes(10, 2), "b.bin"}, {0x0, bytes(0x1001, 1), "a.bin"}};
    auto f = check_layout(bad);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->code, errc::usage_error);
    EXPECT_NE(f->message.find("a.bin at 0x00000000 and b.bin at 0x00001000 overlap"), std::string::npos) << f->message;
}

TEST(RomSafety, ChipMismatchRefusedUnlessForced) {
    const bytes esp32_app = test::read_fixture_image("helloworld-esp32.bin");
    std::vector<region_input> regions = {{0x10000, esp32_app, "helloworld-esp32.bin"}};
    auto s = check_regions(info(chip::esp32c3), regions, four_mb(), false);
    ASSERT_TRUE(s.refusal);
    EXPECT_EQ(s.refusal->code, errc::chip_mismatch);
    EXPECT_EQ(s.refusal->message, "helloworld-esp32.bin is built for the ESP32, but the device is an ESP32-C3");
    auto forced = check_regions(info(chip::esp32c3), regions, four_mb(), true);
    EXPECT_FALSE(forced.refusal);
    ASSERT_FALSE(forced.warnings.empty());
    EXPECT_FALSE(check_regions(info(chip::esp32), regions, four_mb(), false).refusal);
}

TEST(RomSafety, Esp8266ImageOnEsp32) {
    std::vector<region_input> regions = {{0x0, test::read_fixture_image("esp8266_deepsleep.bin"), "deepsleep.bin"}};
    auto s = check_regions(info(chip::esp32), regions, four_mb(), false);
    ASSERT_TRUE(s.refusal);
    EXPECT_EQ(s.refusal->code, errc::chip_mismatch);
    EXPECT_FALSE(check_regions(info(chip::esp8266), regions, four_mb(), false).refusal);
}

TEST(RomSafety, RawDataIsNotJudged) {
    std::vector<region_input> regions = {{0x300000, bytes(4096, 0x42), "fs.bin"}};
    auto s = check_regions(info(chip::esp32), regions, four_mb(), false);
    EXPECT_FALSE(s.refusal);
    EXPECT_TRUE(s.warnings.empty());
}

TEST(RomSafety, GzipFileIsRefused) {
    std::vector<region_input> regions = {{0x10000, gzip_of(test::read_fixture_image("helloworld-esp32.bin")), "app.bin.gz"}};
    auto s = check_regions(info(chip::esp32), regions, four_mb(), false);
    ASSERT_TRUE(s.refusal);
    EXPECT_NE(s.refusal->message.find("gzip-compressed"), std::string::npos);
}

TEST(RomSafety, MustFitTheFlash) {
    std::vector<region_input> regions = {{0x100000, bytes(0x100001, 0), "big.bin"}};
    const auto two = choose_flash_size(info(chip::esp32), regions, 2u << 20, std::nullopt);
    auto f = check_fit(info(chip::esp32), regions, two);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->code, errc::image_too_large);
    EXPECT_NE(f->message.find("past the 2 MiB flash (size from --flash-size)"), std::string::npos) << f->message;
    EXPECT_FALSE(check_fit(info(chip::esp32), regions, four_mb()));
    // Forcing does not make it fit.
    EXPECT_TRUE(check_regions(info(chip::esp32), regions, two, true).refusal);
}

TEST(RomSafety, UnknownSizeOnEsp32FamilyStopsAtTheRomDefault) {
    std::vector<region_input> regions = {{0x1F0000, bytes(0x20000, 0), "data.bin"}};
    const auto unknown = choose_flash_size(info(chip::esp32), regions, std::nullopt, std::nullopt);
    EXPECT_FALSE(unknown.size);
    auto f = check_fit(info(chip::esp32), regions, unknown);
    ASSERT_TRUE(f);
    EXPECT_NE(f->hint.find("--flash-size"), std::string::npos);
    // The ESP8266 ROM has no such default; only the 16 MiB limit.
    EXPECT_FALSE(check_fit(info(chip::esp8266), regions, unknown));
}

TEST(RomSafety, FlashSizeOptionThenChipThenImageHeader) {
    const bytes boot = test::read_fixture_image("bootloader_esp32.bin");  // header says 2MB
    std::vector<region_input> regions = {{0x1000, boot, "bootloader.bin"}};
    auto header = choose_flash_size(info(chip::esp32), regions, std::nullopt, std::nullopt);
    EXPECT_EQ(header.size, 2u << 20);
    EXPECT_EQ(header.source, "the image header of bootloader.bin");
    auto chip_says = choose_flash_size(info(chip::esp32), regions, std::nullopt, 1u << 20, 0x1440EF);
    EXPECT_EQ(chip_says.size, 1u << 20);
    EXPECT_EQ(chip_says.source, "the flash chip (JEDEC ID 0x1440ef)");
    ASSERT_EQ(chip_says.warnings.size(), 1u);  // built for 2 MiB, the chip has 1 MiB
    EXPECT_EQ(chip_says.warnings[0], "bootloader.bin is built for 2 MiB of flash, but the chip has 1 MiB: it may not boot");
    auto option = choose_flash_size(info(chip::esp32), regions, 8u << 20, 4u << 20);
    EXPECT_EQ(option.size, 8u << 20);
    EXPECT_EQ(option.source, "--flash-size");
}

// esp8266_deepsleep.bin holds a bootloader and an application, each with a header saying 4 MiB.
TEST(RomSafety, AMergedImageIsWarnedAboutOnce) {
    std::vector<region_input> regions = {{0x0, test::read_fixture_image("esp8266_deepsleep.bin"), "deepsleep.bin"}};
    auto choice = choose_flash_size(info(chip::esp8266), regions, std::nullopt, 1u << 20);
    ASSERT_EQ(choice.warnings.size(), 1u);
    EXPECT_EQ(choice.warnings[0], "deepsleep.bin is built for 4 MiB of flash, but the chip has 1 MiB: it may not boot");
}

TEST(RomSafety, JedecCapacityCodes) {
    EXPECT_EQ(flash_size_from_jedec(0x1640EF), 4u << 20);  // Winbond W25Q32
    EXPECT_EQ(flash_size_from_jedec(0x1840C8), 16u << 20);
    EXPECT_EQ(flash_size_from_jedec(0x12EF), std::nullopt);
    EXPECT_EQ(flash_size_from_jedec(0x120000 | 0x20), 256u << 10);
    EXPECT_EQ(flash_size_from_jedec(0x2000C2), 64u << 20);  // 0x20 = 64 MiB
    EXPECT_EQ(flash_size_from_jedec(0x3400C2), 1u << 20);   // 0x34 = 1 MiB
    EXPECT_EQ(flash_size_from_jedec(0x00451F), 1u << 20);   // Adesto: the size code is (id >> 8) & 0x1F: 5 = 1 MiB
    EXPECT_EQ(flash_size_from_jedec(0x00481F), 8u << 20);
    EXPECT_EQ(flash_size_from_jedec(0x000000), std::nullopt);
    EXPECT_EQ(flash_size_from_jedec(0xFFFFFF), std::nullopt);
}

TEST(RomSafety, ApplicationAtTheBootloaderOffsetIsWarnedAbout) {
    const bytes app = esp32_app_image("blink");
    std::vector<region_input> at_boot = {{0x1000, app, "blink.bin"}};
    auto s = check_regions(info(chip::esp32), at_boot, four_mb(), false);
    EXPECT_FALSE(s.refusal);
    ASSERT_EQ(s.warnings.size(), 1u);
    EXPECT_EQ(s.warnings[0], "blink.bin holds an application (blink) at 0x00001000, where the ESP32 ROM expects the "
                             "second-stage bootloader: the chip will not boot it");
    std::vector<region_input> at_app = {{0x10000, app, "blink.bin"}};
    EXPECT_TRUE(check_regions(info(chip::esp32), at_app, four_mb(), false).warnings.empty());
    // The ESP8266 keeps its applications at 0x0: no warning there.
    std::vector<region_input> e8266 = {{0x0, test::read_fixture_image("esp8266_deepsleep.bin"), "app.bin"}};
    EXPECT_TRUE(check_regions(info(chip::esp8266), e8266, four_mb(), false).warnings.empty());
}

TEST(RomPlan, AlignsToTheSectorAndPadsToFourBytes) {
    const bytes file{1, 2, 3, 4, 5};
    region_plan plan = plan_region(0x10802, file);
    EXPECT_EQ(plan.offset, 0x10000u);
    EXPECT_EQ(plan.lead, 0x802u);
    ASSERT_EQ(plan.data.size(), 0x802u + 6u);  // the whole write is padded to 4 bytes
    EXPECT_EQ(plan.data[0], 0xFF);
    EXPECT_EQ(plan.data[0x802], 1);
    EXPECT_EQ(plan.data[0x806], 5);
    EXPECT_EQ(plan.data[0x807], 0xFF);
    EXPECT_EQ(plan.md5, md5(plan.data));
    EXPECT_EQ(plan_region(0x2000, bytes(8, 0)).data.size(), 8u);
}

TEST(RomPlan, InflatedSizesFollowTheBlocks) {
    bytes data(50000, 0x11);
    for (std::size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<std::uint8_t>(i);
    const bytes z = zlib_compress(data, 9);
    auto sizes = inflated_sizes(z, 0x400);
    ASSERT_TRUE(sizes);
    EXPECT_EQ(sizes->size(), (z.size() + 0x3FF) / 0x400);
    std::size_t total = 0;
    for (auto n : *sizes) total += n;
    EXPECT_EQ(total, data.size());
    bytes broken = z;
    broken.resize(z.size() / 2);
    EXPECT_FALSE(inflated_sizes(broken, 0x400));
}
