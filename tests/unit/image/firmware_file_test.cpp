// Whole files: merged flash images, partition tables, gzip, signed ESP8266 updates, and the
// things that are not firmware at all.

#include "fixtures.hpp"
#include "image_builder.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/image/firmware_file.hpp>
#include <otaflash/util/crc32.hpp>

#include <gtest/gtest.h>

#include <random>

using namespace otaflash;
using namespace otaflash::image;
using namespace otaflash::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const check* find_check(const firmware_file& f, const std::string& name, const std::string& scope = {}) {
    for (const auto& c : f.checks)
        if (c.name == name && (scope.empty() || c.scope == scope)) return &c;
    return nullptr;
}

bool any_note(const firmware_file& f, const std::string& part) {
    for (const auto& n : f.notes)
        if (contains(n, part)) return true;
    return false;
}

bytes app_for(chip c) {
    image_spec spec;
    spec.target = c;
    spec.app = app_desc_spec{};
    return build_image(spec);
}

bytes bootloader_for(chip c) {
    image_spec spec;
    spec.target = c;
    spec.bootloader = bootloader_desc_spec{};
    return build_image(spec);
}

bytes factory_file(chip c, bool md5 = true) {
    return build_merged(c, bootloader_for(c), build_partition_table(default_partitions(), md5),
                        {{0x10000, app_for(c)}});
}

}  // namespace

TEST(Merged, Esp32FactoryImageWithBootloaderAt0x1000) {
    const bytes data = factory_file(chip::esp32);
    ASSERT_EQ(data[0], 0xFF);
    ASSERT_EQ(data[0x1000], 0xE9);
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->kind, file_kind::merged);
    EXPECT_EQ(f->target, chip::esp32);
    ASSERT_EQ(f->images.size(), 2u);
    EXPECT_EQ(f->images[0].label, "bootloader");
    EXPECT_EQ(f->images[0].offset, 0x1000u);
    ASSERT_TRUE(f->images[0].image && f->images[0].image->bootloader);
    EXPECT_EQ(f->images[1].label, "app factory");
    EXPECT_EQ(f->images[1].offset, 0x10000u);
    ASSERT_TRUE(f->images[1].image && f->images[1].image->app);
    ASSERT_TRUE(f->partitions);
    EXPECT_EQ(f->partitions->offset, 0x8000u);
    EXPECT_EQ(f->partitions->entries.size(), 3u);
    ASSERT_TRUE(f->partitions->md5);
    EXPECT_TRUE(f->partitions->md5->ok());
    EXPECT_TRUE(f->ok());
    for (const char* name : {"bootloader_offset", "partition_table_md5", "partition_layout"})
        EXPECT_NE(find_check(*f, name), nullptr) << name;
    EXPECT_NE(find_check(*f, "sha256", "bootloader@0x00001000"), nullptr);
    EXPECT_NE(find_check(*f, "sha256", "app factory@0x00010000"), nullptr);
}

TEST(Merged, Esp32c3FactoryImageStartsWithTheBootloader) {
    const bytes data = factory_file(chip::esp32c3);
    ASSERT_EQ(data[0], 0xE9);
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->kind, file_kind::merged);
    EXPECT_EQ(f->target, chip::esp32c3);
    EXPECT_EQ(f->images[0].offset, 0u);
    EXPECT_EQ(f->images.size(), 2u);
    EXPECT_TRUE(f->ok());
}

TEST(Merged, P4FactoryImageHasTheBootloaderAt0x2000) {
    auto f = analyze_firmware(factory_file(chip::esp32p4));
    ASSERT_TRUE(f) << f.error().message;
    EXPECT_EQ(f->images[0].offset, 0x2000u);
    EXPECT_EQ(f->target, chip::esp32p4);
    EXPECT_TRUE(f->ok());
}

TEST(Merged, BadPartitionTableMd5FailsTheFile) {
    bytes data = factory_file(chip::esp32c3);
    data[0x8000 + 2 * 32 + 8] ^= 0x01;
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->ok());
    const check* c = find_check(*f, "partition_table_md5");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_EQ(c->scope, "partition_table@0x00008000");
    EXPECT_TRUE(contains(c->detail, "MD5 mismatch at offset 0x00008060")) << c->detail;
}

TEST(Merged, CorruptAppInsideTheFileFailsItsOwnCheck) {
    bytes data = factory_file(chip::esp32);
    data[0x10000 + 0x100] ^= 0x10;
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->ok());
    const check* c = f->first_failure();
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->scope, "app factory@0x00010000");
    EXPECT_EQ(c->name, "checksum");
}

TEST(Merged, TruncatedAppIsAFailedImageCheck) {
    bytes data = factory_file(chip::esp32);
    data.resize(0x10000 + 40);
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f);
    const check* c = find_check(*f, "image", "app factory@0x00010000");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_TRUE(contains(c->detail, "runs past the end")) << c->detail;
}

TEST(Merged, BootloaderAtTheWrongOffsetForItsChip) {
    // A C3 bootloader placed where an ESP32 one would be.
    bytes data(0x1000, 0xFF);
    const bytes boot = bootloader_for(chip::esp32c3);
    data.insert(data.end(), boot.begin(), boot.end());
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f) << f.error().message;
    const check* c = find_check(*f, "bootloader_offset");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_TRUE(contains(c->detail, "the esp32c3 ROM loads the bootloader from 0x00000000")) << c->detail;
    EXPECT_TRUE(any_note(*f, "no partition table"));
}

TEST(Merged, ErasedAndMissingAppPartitionsAreNotedNotFailed) {
    auto parts = default_partitions(0x10000);
    parts.push_back({"ota_0", 0x00, 0x10, 0x20000, 0x10000, 0});
    parts.push_back({"ota_1", 0x00, 0x11, 0x400000, 0x10000, 0});
    bytes data = build_merged(chip::esp32s3, bootloader_for(chip::esp32s3), build_partition_table(parts),
                              {{0x10000, app_for(chip::esp32s3)}});
    data.resize(0x30000, 0xFF);  // ota_0 erased, ota_1 beyond the end
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->ok());
    EXPECT_TRUE(any_note(*f, "'ota_0' at 0x00020000 is erased"));
    EXPECT_TRUE(any_note(*f, "'ota_1' at 0x00400000 lies beyond the end of the file"));
}

TEST(Merged, AppForAnotherChipThanTheBootloader) {
    bytes data = build_merged(chip::esp32c3, bootloader_for(chip::esp32c3), build_partition_table(default_partitions()),
                              {{0x10000, app_for(chip::esp32c6)}});
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f);
    const check* c = find_check(*f, "chip_consistency");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_TRUE(contains(c->detail, "the app is for esp32c6 but the bootloader is for esp32c3")) << c->detail;
}

TEST(Merged, UnreadableBootloaderMakesTheFileMalformed) {
    bytes data = factory_file(chip::esp32);
    test::store_le32(data, 0x1000 + 28, 0xFFFFFFF0);
    auto f = analyze_firmware(data);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::image_malformed);
    EXPECT_TRUE(contains(f.error().message, "bootloader at 0x00001000: segment 0")) << f.error().message;
}

TEST(PartitionTableFile, IsRecognisedAndChecked) {
    auto f = analyze_firmware(build_partition_table(default_partitions()));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, file_kind::partition_table);
    EXPECT_FALSE(f->target);
    EXPECT_TRUE(f->ok());
    EXPECT_NE(find_check(*f, "partition_table_md5"), nullptr);
}

TEST(ChipOption, MismatchIsAChipMismatchCheck) {
    analyze_options options;
    options.expected_chip = chip::esp32c3;
    auto f = analyze_firmware(read_fixture_image("helloworld-esp32.bin"), options);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->ok());
    const check* c = find_check(*f, "chip");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->code, errc::chip_mismatch);
    EXPECT_EQ(c->detail, "built for esp32, not esp32c3");

    options.expected_chip = chip::esp32;
    f = analyze_firmware(read_fixture_image("helloworld-esp32.bin"), options);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->ok());
    ASSERT_NE(find_check(*f, "chip"), nullptr);
}

TEST(Gzip, CompressedImageIsInflatedAndVerified) {
    const bytes inner = read_fixture_image("helloworld-esp32.bin");
    const bytes packed = gzip_compress(inner);
    auto f = analyze_firmware(packed);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE(f->gzip);
    EXPECT_EQ(f->gzip->compressed_size, packed.size());
    EXPECT_EQ(f->gzip->inflated_size, inner.size());
    EXPECT_EQ(f->size, packed.size());
    EXPECT_EQ(f->target, chip::esp32);
    EXPECT_TRUE(f->ok());
    EXPECT_TRUE(any_note(*f, "gzip-compressed (" + std::to_string(packed.size()) + " bytes inflate to 128)"));

    auto edited = analyze_firmware(gzip_compress(read_fixture_image("helloworld-esp32_edit.bin")));
    ASSERT_TRUE(edited);
    EXPECT_FALSE(edited->ok());
    EXPECT_EQ(edited->first_failure()->name, "sha256");
}

TEST(Gzip, CorruptTruncatedNestedAndBombStreams) {
    const bytes packed = gzip_compress(read_fixture_image("helloworld-esp32.bin"));
    auto f = analyze_firmware(bytes(packed.begin(), packed.end() - 10));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::image_malformed);
    EXPECT_TRUE(contains(f.error().message, "gzip stream is truncated")) << f.error().message;

    bytes corrupt = packed;
    corrupt[12] ^= 0xFF;
    corrupt[13] ^= 0xFF;
    f = analyze_firmware(corrupt);
    ASSERT_FALSE(f);
    EXPECT_TRUE(contains(f.error().message, "gzip stream")) << f.error().message;

    f = analyze_firmware(gzip_compress(packed));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::not_an_image);

    analyze_options small;
    small.max_inflated_size = 1000;
    f = analyze_firmware(gzip_compress(bytes(5000, 0)), small);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::image_too_large);
}

TEST(Gzip, NotAnImageInsideIsReportedAsSuch) {
    auto f = analyze_firmware(gzip_compress(as_bytes("hello, world")));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::not_an_image);
    EXPECT_TRUE(contains(f.error().message, "inside the gzip stream")) << f.error().message;
}

TEST(Signed, Esp8266SignedUpdateReportsTheSignatureAndVerifiesTheImage) {
    bytes data = read_fixture_image("helloworld-esp8266.bin");
    const std::size_t image_size = data.size();
    data.insert(data.end(), 256, 0x5C);
    append_le32(data, 256);
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE(f->signature);
    EXPECT_EQ(f->signature->length, 256u);
    EXPECT_EQ(f->signature->offset, image_size);
    EXPECT_TRUE(f->ok());
    EXPECT_TRUE(any_note(*f, "signed, 256-byte signature at 0x00000050"));
}

TEST(Signed, ImplausibleTrailerIsJustTrailingData) {
    bytes data = read_fixture_image("helloworld-esp8266.bin");
    data.insert(data.end(), 100, 0x5C);
    append_le32(data, 100);
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f);
    EXPECT_FALSE(f->signature);
    EXPECT_TRUE(any_note(*f, "104 bytes after the image end (0x00000050) are not part of it"));
}

TEST(Signed, GzipThenSignedAsTheArduinoCoreDoesIt) {
    bytes data = gzip_compress(read_fixture_image("bootloader_esp8266.bin"));
    const std::size_t gz = data.size();
    data.insert(data.end(), 384, 0x11);
    append_le32(data, 384);
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE(f->gzip);
    ASSERT_TRUE(f->signature);
    EXPECT_EQ(f->signature->offset, gz);
    EXPECT_EQ(f->signature->length, 384u);
    EXPECT_TRUE(f->ok());
}

TEST(Trailing, PaddingWithFfIsNoted) {
    bytes data = read_fixture_image("helloworld-esp32.bin");
    data.resize(4096, 0xFF);
    auto f = analyze_firmware(data);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->ok());
    EXPECT_TRUE(any_note(*f, "padded with 0xff from 0x00000080 to 4096 bytes"));
}

TEST(NotFirmware, EmptyRandomErasedLittleFsAndFat) {
    auto f = analyze_firmware({});
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::file_empty);

    std::mt19937 rng(42);
    bytes random(4096);
    for (auto& b : random) b = static_cast<std::uint8_t>(rng());
    random[0] = 0x3C;
    f = analyze_firmware(random);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::not_an_image);
    EXPECT_TRUE(contains(f.error().message, "first byte is 0x3c")) << f.error().message;

    f = analyze_firmware(bytes(8192, 0xFF));
    ASSERT_FALSE(f);
    EXPECT_TRUE(contains(f.error().message, "erased flash")) << f.error().message;

    bytes ff_then_junk(8192, 0xFF);
    ff_then_junk[100] = 0;
    f = analyze_firmware(ff_then_junk);
    ASSERT_FALSE(f);
    EXPECT_TRUE(contains(f.error().message, "no image header (0xe9) at 0x00001000 or 0x00002000"))
        << f.error().message;

    bytes littlefs(8192, 0xFF);
    const char superblock[] = "\x00\x00\x00\x00\xf0\x0f\xff\xf7littlefs/\xe0\x00\x10";
    std::copy(std::begin(superblock), std::end(superblock) - 1, littlefs.begin());
    f = analyze_firmware(littlefs);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::not_an_image);
    EXPECT_TRUE(contains(f.error().message, "LittleFS filesystem image")) << f.error().message;

    bytes fat(4096, 0);
    fat[0] = 0xEB;
    std::copy_n("FAT16   ", 8, fat.begin() + 0x36);
    fat[510] = 0x55;
    fat[511] = 0xAA;
    f = analyze_firmware(fat);
    ASSERT_FALSE(f);
    EXPECT_TRUE(contains(f.error().message, "FAT filesystem image")) << f.error().message;
}

TEST(NotFirmware, TruncatedFixtureIsMalformedWithTheOffset) {
    const bytes data = read_fixture_image("bootloader_esp32c3.bin");
    auto f = analyze_firmware(bytes(data.begin(), data.begin() + 0x1000));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, errc::image_malformed);
    EXPECT_TRUE(contains(f.error().message, "segment 1 at offset 0x00000034: length 0x00001864 runs past the end"))
        << f.error().message;
}

// Issue 12 item 25: secure boot signatures after an ESP32 image are recognised, not "trailing data".
namespace {
bytes v2_signed(const bytes& image, std::uint8_t version = 2) {
    bytes out = image;
    out.resize((out.size() + 4095) / 4096 * 4096, 0xFF);
    const auto digest = sha256(out);
    bytes block(1216, 0);
    block[0] = 0xE7;
    block[1] = version;
    std::copy(digest.begin(), digest.end(), block.begin() + 4);
    for (std::size_t i = 36; i < 1196; ++i) block[i] = static_cast<std::uint8_t>(i * 31);
    store_le32(block, 1196, crc32(byte_view(block).first(1196)));
    out.insert(out.end(), block.begin(), block.end());
    out.resize(out.size() + 4096 - 1216, 0xFF);
    return out;
}
}  // namespace

TEST(SecureBoot, V2SignatureSectorIsNamedAndItsDigestAndCrcChecked) {
    const bytes image = build_sized_app(chip::esp32c3, 9000);
    for (std::uint8_t version : {2, 3}) {
        auto f = analyze_firmware(v2_signed(image, version));
        ASSERT_TRUE(f) << f.error().message;
        ASSERT_TRUE(f->secure_boot);
        EXPECT_EQ(f->secure_boot->version, 2);
        EXPECT_EQ(f->secure_boot->offset, 12288u);
        EXPECT_EQ(f->secure_boot->blocks, 1u);
        EXPECT_TRUE(f->ok()) << f->first_failure()->detail;
        EXPECT_TRUE(any_note(*f, "Secure Boot V2 signature sector at 0x00003000"));
        EXPECT_FALSE(any_note(*f, "not part of it"));
    }
    bytes tampered = v2_signed(image);
    tampered[4096 * 3 + 100] ^= 1;  // inside the block: its CRC fails
    auto bad = analyze_firmware(tampered);
    ASSERT_TRUE(bad);
    ASSERT_NE(find_check(*bad, "secure_boot_crc", "secure_boot_v2@0x00003000"), nullptr);
    EXPECT_FALSE(find_check(*bad, "secure_boot_crc", "secure_boot_v2@0x00003000")->ok);
    bytes padded = v2_signed(image);
    padded[0x200] ^= 1;  // the image changed after signing: the block's digest no longer matches
    auto changed = analyze_firmware(padded);
    ASSERT_TRUE(changed);
    const check* digest = find_check(*changed, "secure_boot_digest", "secure_boot_v2@0x00003000");
    ASSERT_NE(digest, nullptr);
    EXPECT_FALSE(digest->ok);
}

TEST(SecureBoot, V1SignatureBlockEndsAnEsp32Image) {
    bytes file = build_sized_app(chip::esp32, 9000);
    file.resize(0x3000 - 68, 0xFF);
    bytes block(68, 0);
    for (std::size_t i = 4; i < 68; ++i) block[i] = static_cast<std::uint8_t>(i * 7 + 1);
    file.insert(file.end(), block.begin(), block.end());
    auto f = analyze_firmware(file);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE(f->secure_boot);
    EXPECT_EQ(f->secure_boot->version, 1);
    EXPECT_EQ(f->secure_boot->offset, 0x3000u - 68);
    EXPECT_TRUE(any_note(*f, "Secure Boot V1 signature block"));
    EXPECT_FALSE(any_note(*f, "not part of it"));
}
