// The Update/Updater model: space checks, sector buffering, magic and MD5 checks, error texts.

#include "emulator/ota/updater.hpp"
#include "emulator/ota/wire.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::emulator::ota;

namespace {

bytes image_of(std::size_t size, std::uint8_t first = 0xE9) {
    bytes b(size, 0x5A);
    if (size > 0) b[0] = first;
    return b;
}

std::string md5_of(const bytes& b) { return to_hex(md5(b)); }

TEST(OtaUpdater, Esp8266CountsSpaceInWholeSectors) {
    updater u(updater_family::esp8266, 8192);
    EXPECT_TRUE(u.begin(8192, command_flash));
    updater v(updater_family::esp8266, 8192);
    EXPECT_FALSE(v.begin(8193, command_flash));
    EXPECT_EQ(v.error_text(), "ERROR[4]: Not Enough Space\n");
}

TEST(OtaUpdater, Esp32CallsATooLargeImageABadSize) {
    updater u(updater_family::esp32, 8192);
    EXPECT_FALSE(u.begin(8193, command_flash));
    EXPECT_EQ(u.error_text(), "Bad Size Given\r\n");
}

TEST(OtaUpdater, ZeroSizeAndForcedRefusal) {
    updater a(updater_family::esp8266, 1 << 20);
    EXPECT_FALSE(a.begin(0, command_flash));
    EXPECT_EQ(a.error_text(), "ERROR[5]: Bad Size Given\n");
    updater b(updater_family::rp2040, 1 << 20);
    EXPECT_FALSE(b.begin(100, command_filesystem, true));
    EXPECT_EQ(b.error_text(), "ERROR[4]: Not Enough Space\r\n");
}

TEST(OtaUpdater, WholeImageVerifiesAndIsKept) {
    for (auto family : {updater_family::esp8266, updater_family::esp32, updater_family::rp2040}) {
        const bytes image = image_of(10000);
        updater u(family, 1 << 20);
        ASSERT_TRUE(u.begin(10000, command_flash));
        u.set_md5(md5_of(image));
        std::size_t flashed = 0;
        for (std::size_t at = 0; at < image.size(); at += 1460) {
            auto r = u.write(byte_view(image).subspan(at, std::min<std::size_t>(1460, image.size() - at)));
            EXPECT_EQ(r.written, std::min<std::size_t>(1460, image.size() - at));
            flashed += r.flashed;
        }
        EXPECT_EQ(flashed, image.size());
        EXPECT_TRUE(u.finished());
        EXPECT_TRUE(u.end());
        EXPECT_EQ(u.flash(), image);
    }
}

TEST(OtaUpdater, SectorsGoToFlashOnlyWhenFullAndNeeded) {
    updater u(updater_family::esp8266, 1 << 20);
    ASSERT_TRUE(u.begin(10000, command_flash));
    EXPECT_EQ(u.drain_room(), 4096u);
    const bytes sector = image_of(4096);
    EXPECT_EQ(u.write(sector).flashed, 0u);  // a full buffer waits for the next byte
    EXPECT_EQ(u.drain_room(), 4096u);
    EXPECT_EQ(u.write(byte_view(sector).first(100)).flashed, 4096u);
    EXPECT_EQ(u.drain_room(), 3996u);
}

TEST(OtaUpdater, Esp32ChecksTheMagicByteWhenTheFirstSectorIsFlashed) {
    updater u(updater_family::esp32, 1 << 20);
    ASSERT_TRUE(u.begin(5000, command_flash));
    const bytes image = image_of(5000, 0x00);
    EXPECT_EQ(u.write(byte_view(image).first(1460)).written, 1460u);
    EXPECT_EQ(u.write(byte_view(image).subspan(1460, 1460)).written, 1460u);
    EXPECT_EQ(u.write(byte_view(image).subspan(2920, 1460)).written, 0u);
    EXPECT_TRUE(u.has_error());
    EXPECT_TRUE(u.finished());  // the aborted updater reads as finished: the firmware's loop ends
    EXPECT_FALSE(u.end());
    EXPECT_EQ(u.error_text(), "Wrong Magic Byte\r\n");
}

TEST(OtaUpdater, FilesystemImagesHaveNoMagic) {
    for (auto family : {updater_family::esp8266, updater_family::esp32}) {
        updater u(family, 1 << 20);
        ASSERT_TRUE(u.begin(100, command_filesystem));
        EXPECT_EQ(u.write(image_of(100, 0x00)).written, 100u);
        EXPECT_TRUE(u.end());
    }
}

TEST(OtaUpdater, Esp32RefusesMoreThanAnnounced) {
    updater u(updater_family::esp32, 1 << 20);
    ASSERT_TRUE(u.begin(100, command_flash));
    EXPECT_EQ(u.write(image_of(101)).written, 0u);
    EXPECT_FALSE(u.end());
    EXPECT_EQ(u.error_text(), "Not Enough Space\r\n");
}

TEST(OtaUpdater, Esp8266ChecksMagicAfterMd5AndAcceptsGzip) {
    updater a(updater_family::esp8266, 1 << 20);
    ASSERT_TRUE(a.begin(100, command_flash));
    a.write(image_of(100, 0x00));
    EXPECT_FALSE(a.end());
    EXPECT_EQ(a.error_text(), "ERROR[10]: Magic byte is not 0xE9\n");

    bytes gz = image_of(100, 0x1F);
    gz[1] = 0x8B;
    updater b(updater_family::esp8266, 1 << 20);
    ASSERT_TRUE(b.begin(100, command_flash));
    b.write(gz);
    EXPECT_TRUE(b.end());
}

TEST(OtaUpdater, Md5MismatchTextsAndCaseInsensitiveTargets) {
    const bytes image = image_of(100);
    const std::string real = md5_of(image);
    std::string upper = real;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::string wrong(32, '0');
    struct expectation {
        updater_family family;
        std::string text;
    };
    for (const auto& [family, text] :
         {expectation{updater_family::esp8266, "ERROR[7]: MD5 verification failed: expected: " + wrong + ", calculated: " + real + "\n"},
          expectation{updater_family::esp32, "MD5 Check Failed\r\n"},
          expectation{updater_family::rp2040, "ERROR[7]: MD5 Failed: expected:" + wrong + " calculated:" + real + "\r\n"}}) {
        updater bad(family, 1 << 20);
        ASSERT_TRUE(bad.begin(100, command_flash));
        bad.set_md5(wrong);
        bad.write(image);
        EXPECT_FALSE(bad.end());
        EXPECT_EQ(bad.error_text(), text);

        updater good(family, 1 << 20);
        ASSERT_TRUE(good.begin(100, command_flash));
        good.set_md5(upper);
        good.write(image);
        EXPECT_TRUE(good.end());
    }
}

TEST(OtaUpdater, PrematureEndKeepsErrorZeroOnEsp8266) {
    updater a(updater_family::esp8266, 1 << 20);
    ASSERT_TRUE(a.begin(10000, command_flash));
    a.write(image_of(5000));
    EXPECT_FALSE(a.end());
    EXPECT_EQ(a.error_text(), "ERROR[0]: No Error\n");

    updater b(updater_family::esp8266, 1 << 20);
    ASSERT_TRUE(b.begin(10000, command_flash));
    EXPECT_FALSE(b.end());
    EXPECT_EQ(b.error_text(), "ERROR[13]: No data supplied\n");

    updater c(updater_family::esp32, 1 << 20);
    ASSERT_TRUE(c.begin(10000, command_flash));
    c.write(image_of(5000));
    EXPECT_FALSE(c.end());
    EXPECT_EQ(c.error_text(), "Aborted\r\n");
}

}  // namespace
