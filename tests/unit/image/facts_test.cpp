// Every line of ../shared/fixtures/FACTS.md, checked against the parser on the real images. The
// chip is never given: the parser must find it from the bytes.

#include "fixtures.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/image/checks.hpp>
#include <otaflash/image/firmware_file.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

#include <ostream>

#include <optional>

using namespace otaflash;
using namespace otaflash::image;

namespace {

struct fact {
    const char* file;
    chip target;
    std::size_t bytes;
    std::uint32_t entry;
    std::size_t segments;
    std::uint8_t checksum;
    const char* digest;  // nullptr: none appended
    bool digest_valid;
};

// The table of FACTS.md.
const fact facts[] = {
    {"bootloader_esp8266.bin", chip::esp8266, 2752, 0x40100294, 3, 0xc0, nullptr, false},
    {"esp8266_deepsleep.bin", chip::esp8266, 297632, 0x4010f29c, 1, 0x2d, nullptr, false},
    {"helloworld-esp8266.bin", chip::esp8266, 80, 0x40108008, 2, 0x12, nullptr, false},
    {"bootloader_esp32.bin", chip::esp32, 7888, 0x4009816c, 4, 0x83, nullptr, false},
    {"bootloader_esp32c3.bin", chip::esp32c3, 17744, 0x403c0000, 4, 0x77,
     "4faeab1bd3fd6a7d4adfa0fd38f41bfc67a8c3c0a9d6d882b65580da2e5e6347", true},
    {"helloworld-esp32.bin", chip::esp32, 128, 0x4008c008, 2, 0x14,
     "8ff3e6430a3ea49ec072aff7b73fe7b881ff47b8f619936385938d4bfb3a9ba9", true},
    // "stored 8ff3e643…3a9ba9 invalid": the edit is inside the stored digest.
    {"helloworld-esp32_edit.bin", chip::esp32, 128, 0x4008c008, 2, 0x14, nullptr, false},
};

// Names the case by its file in test listings instead of a byte dump of the struct.
void PrintTo(const fact& f, std::ostream* os) { *os << f.file; }

class FactsTest : public ::testing::TestWithParam<fact> {};

}  // namespace

TEST_P(FactsTest, HeaderChecksumAndDigestAgreeWithEsptool) {
    const fact& f = GetParam();
    const bytes data = test::read_fixture_image(f.file);
    ASSERT_EQ(data.size(), f.bytes);

    auto parsed = parse_image(data);
    ASSERT_TRUE(parsed) << parsed.error().message;
    const image_info& im = *parsed;
    EXPECT_EQ(im.target, f.target);
    EXPECT_EQ(im.entry, f.entry);
    EXPECT_EQ(im.segments.size(), f.segments);
    EXPECT_EQ(im.segment_count, f.segments);
    EXPECT_EQ(im.checksum_stored, f.checksum);
    EXPECT_TRUE(im.checksum_ok()) << "computed " << int{im.checksum_computed};

    if (f.target == chip::esp8266) {
        EXPECT_FALSE(im.ext.has_value());
        EXPECT_FALSE(im.digest.has_value());
        EXPECT_EQ(im.format, image_format::esp8266_v1);
    } else {
        ASSERT_TRUE(im.ext.has_value());
        EXPECT_EQ(im.format, image_format::esp32);
    }
    if (f.digest) {
        ASSERT_TRUE(im.digest.has_value());
        EXPECT_EQ(to_hex(im.digest->stored), f.digest);
        EXPECT_EQ(to_hex(im.digest->computed), f.digest);
        EXPECT_EQ(im.digest->ok(), f.digest_valid);
        EXPECT_EQ(im.size, f.bytes);  // the digest is the last thing in these files
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FactsTest, ::testing::ValuesIn(facts),
                         [](const auto& info) {
                             std::string n = info.param.file;
                             for (auto& ch : n)
                                 if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                             return n;
                         });

TEST(Facts, Esp32BootloaderHasNoDigestBecauseHashAppendedIsZero) {
    auto im = parse_image(test::read_fixture_image("bootloader_esp32.bin"));
    ASSERT_TRUE(im);
    EXPECT_EQ(im->ext->hash_appended, 0);
    EXPECT_FALSE(im->digest.has_value());
    auto checks = check_image(*im);
    for (const auto& c : checks) EXPECT_NE(c.name, "sha256");
}

TEST(Facts, EditedHelloworldKeepsTheOriginalDigestWhichNoLongerMatches) {
    auto im = parse_image(test::read_fixture_image("helloworld-esp32_edit.bin"));
    ASSERT_TRUE(im);
    ASSERT_TRUE(im->digest);
    const std::string stored = to_hex(im->digest->stored);
    EXPECT_EQ(stored.substr(0, 8), "8ff3e643");
    EXPECT_EQ(stored.substr(stored.size() - 6), "3a9ba9");
    EXPECT_FALSE(im->digest->ok());
    EXPECT_NE(im->digest->stored, im->digest->computed);
    EXPECT_TRUE(im->checksum_ok());

    auto checks = check_image(*im);
    const auto sha = std::find_if(checks.begin(), checks.end(), [](const check& c) { return c.name == "sha256"; });
    ASSERT_NE(sha, checks.end());
    EXPECT_FALSE(sha->ok);
    EXPECT_EQ(sha->code, errc::image_check_failed);
    EXPECT_NE(sha->detail.find("SHA-256 digest mismatch"), std::string::npos) << sha->detail;
    EXPECT_NE(sha->detail.find(stored), std::string::npos) << sha->detail;
    EXPECT_NE(sha->detail.find(to_hex(im->digest->computed)), std::string::npos) << sha->detail;
}

TEST(Facts, ChipRevisionsReadFromTheExtendedHeader) {
    for (const char* file : {"bootloader_esp32.bin", "bootloader_esp32c3.bin", "helloworld-esp32.bin"}) {
        auto im = parse_image(test::read_fixture_image(file));
        ASSERT_TRUE(im) << file;
        ASSERT_TRUE(im->ext) << file;
        EXPECT_EQ(format_revision(im->ext->min_rev_full), "v0.0") << file;
        EXPECT_EQ(format_revision(im->ext->max_rev_full), "v0.0") << file;
    }
}

namespace {
struct seg_fact {
    std::uint32_t length, load, file_offset;
    const char* region;
};
void expect_segments(const char* file, std::initializer_list<seg_fact> expected) {
    auto im = parse_image(test::read_fixture_image(file));
    ASSERT_TRUE(im) << file;
    ASSERT_EQ(im->segments.size(), expected.size()) << file;
    std::size_t i = 0;
    for (const auto& e : expected) {
        const segment& s = im->segments[i++];
        EXPECT_EQ(s.length, e.length) << file << " segment " << i - 1;
        EXPECT_EQ(s.load_address, e.load) << file << " segment " << i - 1;
        EXPECT_EQ(s.header_offset, e.file_offset) << file << " segment " << i - 1;
        EXPECT_EQ(s.data_offset, e.file_offset + 8) << file << " segment " << i - 1;
        EXPECT_EQ(s.region, e.region) << file << " segment " << i - 1;
    }
}
}  // namespace

TEST(Facts, SegmentTablesWithFileOffsets) {
    expect_segments("bootloader_esp8266.bin", {{0x574, 0x40100000, 0x8, "IRAM"},
                                               {0x308, 0x3ffe8000, 0x584, "DRAM"},
                                               {0x21c, 0x3ffe8308, 0x894, "DRAM"}});
    // FACTS names no region for 0x40108000 (esptool stops IRAM at 0x40108000); we call the whole
    // 64 KiB IRAM (see chip.cpp), which is why the entry point there counts as ESP8266 code.
    expect_segments("helloworld-esp8266.bin", {{0x1c, 0x40108000, 0x8, "IRAM"}, {0x10, 0x3ffe8000, 0x2c, "DRAM"}});
}

TEST(Facts, FileSha256OfEveryFixture) {
    const std::pair<const char*, const char*> sums[] = {
        {"bootloader_esp32.bin", "914a9797c100fd51a4845c2bfcd9f2206f2a72552c697531090dc6df41e1e90e"},
        {"bootloader_esp32c3.bin", "ec4834595c67a4d353c2516df35e37f9152bb4de12d4d4671fe35a08b51cc9d5"},
        {"bootloader_esp8266.bin", "8ba27abd6c92af0a454fd73b895ed9c0d6e6a26f0ea6b53cf191aa8932ba75fb"},
        {"esp8266_deepsleep.bin", "ea4ecfa2cf39210dcf0e030cd994952b63dad03b681e4eb0141bf6fc5ebfe902"},
        {"helloworld-esp32.bin", "5e7c5f5b0ebf3f500e1be0086b4bb4d7a15f954c708b559bfe7656ba253c8500"},
        {"helloworld-esp32_edit.bin", "4875cf925cc2546c09b3687a8f2b7056ceaca1b16bee5b0460208bb811909bd6"},
        {"helloworld-esp8266.bin", "5ddfa5fcdc227834ff36e373676f197992b95020e94b50d29a7e4a3f891da4da"},
    };
    for (const auto& [file, sum] : sums) EXPECT_EQ(to_hex(sha256(test::read_fixture_image(file))), sum) << file;
}

TEST(Facts, VerifyPassesEveryFixtureButTheEditedOne) {
    for (const auto& f : facts) {
        auto file = analyze_firmware(test::read_fixture_image(f.file));
        ASSERT_TRUE(file) << f.file << ": " << file.error().message;
        EXPECT_EQ(file->target, f.target) << f.file;
        EXPECT_EQ(file->ok(), std::string{f.file} != "helloworld-esp32_edit.bin") << f.file;
    }
}

TEST(Facts, DeepsleepCarriesTheArduinoAppAfterEbootAt0x1000) {
    auto file = analyze_firmware(test::read_fixture_image("esp8266_deepsleep.bin"));
    ASSERT_TRUE(file);
    ASSERT_EQ(file->images.size(), 2u);
    EXPECT_EQ(file->images[0].label, "bootloader");
    EXPECT_EQ(file->images[1].label, "app");
    EXPECT_EQ(file->images[1].offset, 0x1000u);
    ASSERT_TRUE(file->images[1].image);
    const image_info& app = *file->images[1].image;
    EXPECT_EQ(app.target, chip::esp8266);
    EXPECT_EQ(0x1000 + app.size, 297632u);  // the app runs to the end of the file
    EXPECT_EQ(app.segments.front().load_address, 0x40201010u);
    EXPECT_EQ(app.segments.front().region, "IROM");
}
