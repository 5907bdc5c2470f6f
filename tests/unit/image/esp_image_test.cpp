// Synthetic images: every chip of the table, every descriptor, every error branch of the parser.

#include "fixtures.hpp"
#include "image_builder.hpp"

#include <otaflash/image/checks.hpp>
#include <otaflash/image/esp_image.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::image;
using otaflash::test::build_image;
using otaflash::test::image_spec;
using otaflash::test::store_le16;
using otaflash::test::store_le32;

namespace {

failure parse_failure(const bytes& data) {
    auto r = parse_image(data);
    EXPECT_FALSE(r) << "parsed although it should not";
    return r ? failure{} : r.error();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const check* find_check(const std::vector<check>& checks, const std::string& name) {
    for (const auto& c : checks)
        if (c.name == name) return &c;
    return nullptr;
}

class EveryChip : public ::testing::TestWithParam<chip> {};
class EveryFamilyChip : public ::testing::TestWithParam<chip> {};

std::vector<chip> chips(bool with_esp8266) {
    std::vector<chip> out;
    for (const auto& c : all_chips())
        if (with_esp8266 || c.id != chip::esp8266) out.push_back(c.id);
    return out;
}
std::string param_name(const ::testing::TestParamInfo<chip>& i) { return std::string{name(i.param)}; }

}  // namespace

TEST_P(EveryChip, ValidImageIsReadBackWithItsChipSegmentsAndDigest) {
    const chip c = GetParam();
    image_spec spec;
    spec.target = c;
    const bytes data = build_image(spec);
    auto im = parse_image(data);
    ASSERT_TRUE(im) << name(c) << ": " << im.error().message;
    EXPECT_EQ(im->target, c);
    EXPECT_EQ(im->segments.size(), 2u);
    EXPECT_EQ(im->segments[0].load_address, test::data_ram_address(c) + 0x100);
    EXPECT_EQ(im->segments[1].load_address, test::code_ram_address(c) + 0x100);
    EXPECT_TRUE(im->checksum_ok());
    EXPECT_EQ(im->size, data.size());
    if (c == chip::esp8266) {
        EXPECT_EQ(im->format, image_format::esp8266_v1);
        EXPECT_FALSE(im->digest);
    } else {
        EXPECT_EQ(im->format, image_format::esp32);
        ASSERT_TRUE(im->digest);
        EXPECT_TRUE(im->digest->ok());
        EXPECT_EQ(im->ext->chip_id, *info(c).image_chip_id);
        EXPECT_TRUE(contains(im->detection, "chip id")) << im->detection;
    }
    for (const auto& check : check_image(*im)) EXPECT_TRUE(check.ok) << name(c) << " " << check.detail;
}

TEST_P(EveryFamilyChip, AppDescriptorIsReported) {
    const chip c = GetParam();
    image_spec spec;
    spec.target = c;
    test::app_desc_spec app;
    app.version = "v2.7.1-factory";
    app.project_name = std::string{"proj_"} + std::string{name(c)};
    app.idf_version = "v5.4-dev-123-gabcdef";
    app.secure_version = 3;
    app.mmu_page_size_log2 = 15;
    spec.app = app;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im) << im.error().message;
    EXPECT_EQ(im->target, c);
    ASSERT_TRUE(im->app) << name(c);
    EXPECT_EQ(im->app->version, "v2.7.1-factory");
    EXPECT_EQ(im->app->project_name, app.project_name);
    EXPECT_EQ(im->app->idf_version, "v5.4-dev-123-gabcdef");
    EXPECT_EQ(im->app->time, "12:34:56");
    EXPECT_EQ(im->app->date, "Jan  1 2026");
    EXPECT_EQ(im->app->secure_version, 3u);
    EXPECT_EQ(im->app->max_efuse_blk_rev_full, 199);
    EXPECT_EQ(im->app->mmu_page_size_log2, 15);
    std::string elf;
    for (int i = 0; i < 32; ++i) elf += "a5";
    EXPECT_EQ(to_hex(im->app->elf_sha256), elf);
    EXPECT_FALSE(im->bootloader);
}

INSTANTIATE_TEST_SUITE_P(Table, EveryChip, ::testing::ValuesIn(chips(true)), param_name);
// ESP8266 v1 images carry no ESP-IDF descriptor.
INSTANTIATE_TEST_SUITE_P(Table, EveryFamilyChip, ::testing::ValuesIn(chips(false)), param_name);

TEST(AppDescriptor, RealisticS3C6H2P4AppsAreReportedWithTheirRegions) {
    struct expect {
        chip c;
        const char* first_region;
    };
    for (const auto& e : {expect{chip::esp32s3, "DROM"}, expect{chip::esp32c6, "DROM"}, expect{chip::esp32h2, "DROM"},
                          expect{chip::esp32p4, "FLASH"}}) {
        image_spec spec;
        spec.target = e.c;
        spec.app = test::app_desc_spec{};
        auto im = parse_image(build_image(spec));
        ASSERT_TRUE(im) << name(e.c);
        EXPECT_EQ(im->target, e.c);
        ASSERT_TRUE(im->app);
        EXPECT_EQ(im->app->project_name, "hello");
        EXPECT_EQ(im->app->version, "1.0.0");
        EXPECT_EQ(im->app->idf_version, "v5.3.1");
        EXPECT_EQ(im->segments[0].data_offset, 0x20u);  // the descriptor sits at file offset 0x20
        EXPECT_EQ(im->segments[0].region, e.first_region) << name(e.c);
    }
}

TEST(AppDescriptor, ControlCharactersInStringsAreNeutralised) {
    image_spec spec;
    test::app_desc_spec app;
    app.project_name = "evil\x1b[2Jname";
    spec.app = app;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im && im->app);
    EXPECT_EQ(im->app->project_name, "evil?[2Jname");
}

TEST(BootloaderDescriptor, IsReadFromTheFirstDataRamSegment) {
    image_spec spec;
    spec.target = chip::esp32c3;
    spec.bootloader = test::bootloader_desc_spec{};
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    ASSERT_TRUE(im->bootloader);
    EXPECT_EQ(im->bootloader->version, 1u);
    EXPECT_EQ(im->bootloader->idf_version, "v5.2.2");
    EXPECT_EQ(im->bootloader->date_time, "Jan  1 2026 12:34:56");
    EXPECT_FALSE(im->app);
}

TEST(BootloaderDescriptor, MagicByteInACodeSegmentIsNotADescriptor) {
    image_spec spec;
    spec.target = chip::esp32;
    bytes code(96, 0);
    code[0] = 0x50;
    spec.segments = {{test::code_ram_address(chip::esp32), code}};
    spec.entry = test::code_ram_address(chip::esp32);
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    EXPECT_FALSE(im->bootloader);
}

TEST(Header, FlashModeSizeAndFrequencyAreDecodedPerChip) {
    image_spec spec;
    spec.target = chip::esp32c2;
    spec.flash_mode = 3;
    spec.flash_size_freq = 0x4F;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    EXPECT_EQ(flash_mode_name(im->flash_mode), "DOUT");
    EXPECT_EQ(flash_size_name(*im), "16MB");
    EXPECT_EQ(flash_freq_name(*im), "60m");

    spec.target = chip::esp8266;
    spec.flash_mode = 0;
    spec.flash_size_freq = 0x40;
    im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    EXPECT_EQ(flash_mode_name(im->flash_mode), "QIO");
    EXPECT_EQ(flash_size_name(*im), "4MB");
    EXPECT_EQ(flash_freq_name(*im), "40m");

    spec.flash_mode = 7;
    spec.flash_size_freq = 0x7E;
    im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    EXPECT_EQ(flash_mode_name(im->flash_mode), "unknown");
    EXPECT_EQ(flash_size_name(*im), "unknown (0x7)");
    EXPECT_EQ(flash_freq_name(*im), "unknown (0xe)");
}

TEST(Header, ChipRevisionsAndWpPin) {
    image_spec spec;
    spec.target = chip::esp32s3;
    spec.min_rev_full = 102;
    spec.max_rev_full = 199;
    spec.wp_pin = 7;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im && im->ext);
    EXPECT_EQ(format_revision(im->ext->min_rev_full), "v1.2");
    EXPECT_EQ(format_revision(im->ext->max_rev_full), "v1.99");
    EXPECT_EQ(format_revision(0xFFFF), "v655.35");
    EXPECT_EQ(im->ext->wp_pin, 7);
}

// --- detection ------------------------------------------------------------------------------------

TEST(Detection, RtosSdkV3ImageIsEsp8266DespiteChipIdZero) {
    image_spec spec;
    spec.target = chip::esp32;  // chip id 0 in an all-zero extended header …
    spec.wp_pin = 0;
    spec.max_rev_full = 0;
    spec.segments = {{0x3FFE8000, bytes(16, 1)}, {0x40100000, bytes(32, 2)}};  // … with ESP8266 addresses
    spec.entry = 0x40100004;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im) << im.error().message;
    EXPECT_EQ(im->target, chip::esp8266);
    EXPECT_EQ(im->format, image_format::esp8266_v3);
    ASSERT_TRUE(im->digest);
    EXPECT_TRUE(im->digest->ok());
    EXPECT_EQ(im->segments[1].region, "IRAM");
}

TEST(Detection, AllZeroExtendedHeaderWithEsp32AddressesStaysEsp32) {
    image_spec spec;
    spec.target = chip::esp32;
    spec.wp_pin = 0;
    spec.max_rev_full = 0;
    spec.append_digest = false;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    EXPECT_EQ(im->target, chip::esp32);
    EXPECT_EQ(im->format, image_format::esp32);
}

TEST(Detection, Esp8266SegmentThatLooksLikeAnExtendedHeaderIsStillEsp8266) {
    // Bytes 12..13 = first segment length 16 = chip id of the ESP32-H2; bytes 19..22 (data) zero
    // and byte 23 (data) 1: a plausible extended header. The memory maps decide.
    image_spec spec;
    spec.target = chip::esp8266;
    bytes first(16, 0);
    first[7] = 1;
    spec.segments = {{0x40100000, first}, {0x3FFE8000, bytes(8, 3)}};
    spec.entry = 0x40100000;
    const bytes data = build_image(spec);
    ASSERT_EQ(load_le16(data.data() + 12), 16);
    auto im = parse_image(data);
    ASSERT_TRUE(im) << im.error().message;
    EXPECT_EQ(im->target, chip::esp8266);
    EXPECT_EQ(im->format, image_format::esp8266_v1);
    EXPECT_EQ(im->segments.size(), 2u);
}

TEST(Detection, ImageOfAKnownChipWithAddressesOutsideOurMapKeepsItsChip) {
    image_spec spec;
    spec.target = chip::esp32c6;
    spec.segments = {{0x12340000, bytes(8, 1)}};
    spec.entry = 0x12340000;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    EXPECT_EQ(im->target, chip::esp32c6);
    EXPECT_EQ(im->segments[0].region, "");
    EXPECT_TRUE(contains(im->detection, "outside")) << im->detection;
}

// --- errors ---------------------------------------------------------------------------------------

TEST(Errors, EmptyInput) {
    auto f = parse_failure({});
    EXPECT_EQ(f.code, errc::file_empty);
}

TEST(Errors, BadMagicIsNotAnImage) {
    bytes data = build_image({});
    data[0] = 0x7F;
    auto f = parse_failure(data);
    EXPECT_EQ(f.code, errc::not_an_image);
    EXPECT_TRUE(contains(f.message, "0x7f")) << f.message;
    EXPECT_TRUE(contains(f.message, "offset 0x00000000")) << f.message;
}

TEST(Errors, TruncatedHeader) {
    const bytes data = build_image({});
    for (std::size_t n : {1u, 8u, 23u}) {
        auto f = parse_failure(bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n)));
        EXPECT_EQ(f.code, errc::image_malformed) << n;
        EXPECT_TRUE(contains(f.message, "header truncated")) << f.message;
        EXPECT_TRUE(contains(f.message, std::to_string(n) + " bytes")) << f.message;
    }
}

TEST(Errors, TruncatedSegmentHeader) {
    const bytes data = build_image({});
    // Segment 0 header at 24, data 32 bytes at 32; segment 1 header at 64.
    auto f = parse_failure(bytes(data.begin(), data.begin() + 68));
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "segment 1 header at offset 0x00000040 is truncated")) << f.message;
}

TEST(Errors, SegmentPastTheEndOfTheFile) {
    const bytes data = build_image({});
    auto f = parse_failure(bytes(data.begin(), data.begin() + 100));
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "segment 1 at offset 0x00000040: length 0x00000030 runs past the end"))
        << f.message;
}

TEST(Errors, HugeSegmentLengthDoesNotWrapAround) {
    bytes data = build_image({});
    store_le32(data, 28, 0xFFFFFFF0);
    auto f = parse_failure(data);
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "segment 0 at offset 0x00000018: length 0xfffffff0 runs past the end"))
        << f.message;
}

TEST(Errors, TruncatedChecksum) {
    image_spec spec;
    spec.append_digest = false;
    const bytes data = build_image(spec);
    auto f = parse_failure(bytes(data.begin(), data.end() - 1));
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "checksum byte at offset " + hex32(static_cast<std::uint32_t>(data.size() - 1)) +
                                        " is missing"))
        << f.message;
}

TEST(Errors, TruncatedDigest) {
    const bytes data = build_image({});
    for (std::size_t cut : {1u, 31u, 32u}) {
        auto f = parse_failure(bytes(data.begin(), data.end() - static_cast<std::ptrdiff_t>(cut)));
        EXPECT_EQ(f.code, errc::image_malformed);
        EXPECT_TRUE(contains(f.message, "SHA-256 digest at offset " +
                                            hex32(static_cast<std::uint32_t>(data.size() - 32)) + " is truncated"))
            << f.message;
        EXPECT_TRUE(contains(f.message, std::to_string(32 - cut) + " present")) << f.message;
    }
}

TEST(Errors, BadChecksumIsAFailedCheckNotAParseError) {
    image_spec spec;
    spec.append_digest = false;
    bytes data = build_image(spec);
    data[40] ^= 0x01;  // inside segment 0 data
    auto im = parse_image(data);
    ASSERT_TRUE(im);
    EXPECT_FALSE(im->checksum_ok());
    auto checks = check_image(*im);
    const check* c = find_check(checks, "checksum");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_EQ(c->code, errc::image_check_failed);
    EXPECT_TRUE(contains(c->detail, "checksum mismatch")) << c->detail;
    EXPECT_TRUE(contains(c->detail, "stored " + hex_digits(im->checksum_stored, 2))) << c->detail;
    EXPECT_FALSE(c->hint.empty());
}

TEST(Errors, BadDigestIsAFailedCheck) {
    bytes data = build_image({});
    data.back() ^= 0xFF;
    auto im = parse_image(data);
    ASSERT_TRUE(im);
    EXPECT_TRUE(im->checksum_ok());
    auto checks = check_image(*im);
    const check* c = find_check(checks, "sha256");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_TRUE(contains(c->detail, "SHA-256 digest mismatch at offset")) << c->detail;
}

TEST(Errors, UnknownChipId) {
    bytes data = build_image({});
    store_le16(data, 12, 0x0099);
    auto f = parse_failure(data);
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "unknown chip id 153 (0x0099)")) << f.message;
    EXPECT_TRUE(contains(f.message, "offset 12")) << f.message;
}

TEST(Errors, RetiredChipId) {
    bytes data = build_image({});
    store_le16(data, 12, 7);
    auto f = parse_failure(data);
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "ESP32-C6 beta")) << f.message;
    EXPECT_TRUE(contains(f.message, "retired")) << f.message;
}

TEST(Errors, HashFlagMustBeZeroOrOne) {
    image_spec spec;
    spec.target = chip::esp32s3;
    bytes data = build_image(spec);
    data[23] = 2;
    auto f = parse_failure(data);
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "hash flag at offset 23 is 2 (must be 0 or 1)")) << f.message;
}

TEST(Errors, ReservedExtendedHeaderBytesMustBeZero) {
    image_spec spec;
    spec.target = chip::esp32c3;
    bytes data = build_image(spec);
    data[20] = 0x5A;
    auto f = parse_failure(data);
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "reserved bytes at offset 19..22")) << f.message;
}

TEST(Errors, ZeroAndSeventeenSegments) {
    bytes data = build_image({});
    data[1] = 0;
    auto f = parse_failure(data);
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "segment count 0 at offset 0x00000001")) << f.message;

    image_spec spec;
    for (std::uint32_t i = 0; i < 17; ++i) spec.segments.push_back({0x3FFB0000 + i * 0x100, bytes(4, 0)});
    spec.entry = 0x40080000;
    f = parse_failure(build_image(spec));
    EXPECT_EQ(f.code, errc::image_malformed);
    EXPECT_TRUE(contains(f.message, "segment count 17")) << f.message;

    spec.segments.pop_back();
    EXPECT_TRUE(parse_image(build_image(spec)));  // 16 is the maximum, not an error
}

TEST(Errors, SegmentLengthNotAMultipleOfFourFailsTheSegmentCheck) {
    image_spec spec;
    spec.segments = {{0x3FFB0000, bytes(6, 1)}, {0x40080000, bytes(8, 2)}};
    spec.entry = 0x40080000;
    auto im = parse_image(build_image(spec));
    ASSERT_TRUE(im);
    const auto checks = check_image(*im);
    const check* c = find_check(checks, "segment_lengths");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_TRUE(contains(c->detail, "segment 0 at offset 0x00000018 has length 0x00000006, not a multiple of 4"))
        << c->detail;
}

// --- ESP8266 v2 -----------------------------------------------------------------------------------

TEST(Esp8266V2, ValidImageHasIromSegmentAndGoodCrc) {
    const bytes irom(100, 0x5A);
    const bytes code{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80};
    const bytes data = test::build_esp8266_v2(irom, {{0x40100000, code}, {0x3FFE8000, bytes{0x0F, 0, 0, 0}}},
                                              0x40100010);
    auto im = parse_image(data);
    ASSERT_TRUE(im) << im.error().message;
    EXPECT_EQ(im->format, image_format::esp8266_v2);
    EXPECT_EQ(im->target, chip::esp8266);
    ASSERT_TRUE(im->irom);
    EXPECT_EQ(im->irom->length, 112u);  // padded to 16
    EXPECT_EQ(im->segments.size(), 2u);
    EXPECT_EQ(im->entry, 0x40100010u);
    EXPECT_EQ(im->checksum_computed, 0xEF ^ 0xFF ^ 0x0F);  // RAM segments only, not the irom
    EXPECT_TRUE(im->checksum_ok());
    ASSERT_TRUE(im->crc32);
    EXPECT_TRUE(im->crc32->ok()) << std::hex << im->crc32->stored << " vs " << im->crc32->computed;
    EXPECT_EQ(im->size, data.size());
    for (const auto& c : check_image(*im)) EXPECT_TRUE(c.ok) << c.detail;
}

TEST(Esp8266V2, CorruptIromFailsOnlyTheCrc) {
    bytes data = test::build_esp8266_v2(bytes(32, 1), {{0x40100000, bytes(16, 7)}}, 0x40100000);
    data[20] ^= 0x40;  // irom data: not covered by the checksum
    auto im = parse_image(data);
    ASSERT_TRUE(im);
    EXPECT_TRUE(im->checksum_ok());
    const auto checks = check_image(*im);
    const check* crc = find_check(checks, "crc32");
    ASSERT_NE(crc, nullptr);
    EXPECT_FALSE(crc->ok);
    EXPECT_TRUE(contains(crc->detail, "CRC-32 mismatch")) << crc->detail;
}

TEST(Esp8266V2, BadSecondHeaderAndTruncation) {
    bytes data = test::build_esp8266_v2(bytes(32, 1), {{0x40100000, bytes(16, 7)}}, 0x40100000);
    bytes bad = data;
    bad[16 + 32] = 0x00;
    auto f = parse_failure(bad);
    EXPECT_TRUE(contains(f.message, "second header at offset 0x00000030 starts with 0x00, expected 0xe9")) << f.message;
    f = parse_failure(bytes(data.begin(), data.end() - 2));
    EXPECT_TRUE(contains(f.message, "CRC-32")) << f.message;
    f = parse_failure(bytes(data.begin(), data.begin() + 12));
    EXPECT_TRUE(contains(f.message, "header truncated")) << f.message;
    bytes huge = data;
    store_le32(huge, 12, 0xFFFFFFF0);
    f = parse_failure(huge);
    EXPECT_TRUE(contains(f.message, "irom segment at offset 0x00000008: length 0xfffffff0 runs past the end"))
        << f.message;
}

// Issue 12 item 16: what an image is for, from where it loads.
TEST(ImageRole, BootloadersAreToldByTheirLoadAddressesRamProgramsByHavingNoFlashCode) {
    auto role = [](const char* file, std::size_t offset = 0) {
        const bytes data = otaflash::test::read_fixture_image(file);
        return parse_image(byte_view(data).subspan(offset))->role;
    };
    EXPECT_EQ(role("bootloader_esp32.bin"), image_role::bootloader);    // a segment at 0x40078000
    EXPECT_EQ(role("bootloader_esp32c3.bin"), image_role::bootloader);  // entry 0x403c0000
    EXPECT_EQ(role("helloworld-esp32.bin"), image_role::ram_program);
    EXPECT_EQ(role("bootloader_esp8266.bin"), image_role::ram_program);  // no window known on the ESP8266
    EXPECT_EQ(role("esp8266_deepsleep.bin", 0x1000), image_role::application);  // IROM at 0x40201010
    EXPECT_EQ(parse_image(otaflash::test::build_sized_app(chip::esp32c3, 8192))->role, image_role::application);
}
