// What push refuses or warns about before it contacts a device.

#include "cli/push_preflight.hpp"

#include "fixtures.hpp"
#include "image_builder.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::cli;
using namespace otaflash::test;

namespace {
preflight_request app(const bytes& data) {
    preflight_request r;
    r.image = data;
    return r;
}
bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
    for (const auto& l : lines)
        if (l.find(part) != std::string::npos) return true;
    return false;
}
}  // namespace

TEST(PushPreflight, GoodAppImagesPass) {
    for (const char* name : {"helloworld-esp32.bin", "esp8266_deepsleep.bin"}) {
        const bytes data = read_fixture_image(name);
        auto r = preflight_image(app(data));
        ASSERT_TRUE(r) << name << ": " << r.error().message;
        EXPECT_TRUE(r->warnings.empty()) << name;
        ASSERT_TRUE(r->chip);
    }
    const bytes esp32 = read_fixture_image("helloworld-esp32.bin");
    EXPECT_EQ(*preflight_image(app(esp32))->chip, "esp32");
}

TEST(PushPreflight, ChipMismatchIsRefused) {
    const bytes data = read_fixture_image("helloworld-esp32.bin");
    auto req = app(data);
    req.chip_name = "esp32c3";
    auto r = preflight_image(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::chip_mismatch);
    req.chip_name = "esp32";
    EXPECT_TRUE(preflight_image(req));
    req.chip_name = "esp99";
    EXPECT_EQ(preflight_image(req).error().code, errc::usage_error);
}

TEST(PushPreflight, ImageFailingItsOwnDigestIsRefused) {
    const bytes data = read_fixture_image("helloworld-esp32_edit.bin");
    auto r = preflight_image(app(data));
    ASSERT_FALSE(r);
    EXPECT_EQ(condition_of(r.error().code), condition::verification);
}

TEST(PushPreflight, NotAnImage) {
    const bytes text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!'};
    auto r = preflight_image(app(text));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::not_an_image);
    EXPECT_NE(r.error().hint.find("--chip rp2040"), std::string::npos);
}

TEST(PushPreflight, FilesystemImageSentAsFirmwareSaysUseFs) {
    bytes fs(4096, 0xFF);
    const std::string magic = "littlefs";
    std::copy(magic.begin(), magic.end(), fs.begin() + 8);
    auto r = preflight_image(app(fs));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().hint.find("--fs"), std::string::npos) << r.error().hint;
    auto req = app(fs);
    req.filesystem = true;
    auto ok = preflight_image(req);
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok->warnings.empty());
}

// Issue 12 item 25: an application sent with --fs would replace the filesystem with firmware.
TEST(PushPreflight, AppSentWithFsIsRefused) {
    const bytes data = read_fixture_image("helloworld-esp32.bin");
    auto req = app(data);
    req.filesystem = true;
    auto r = preflight_image(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::not_an_image);
    EXPECT_NE(r.error().message.find("esp32 image, not a filesystem image"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().hint.find("drop --fs"), std::string::npos);
    req.advisory = true;  // espota compatibility: a warning, sent as it is
    EXPECT_TRUE(preflight_image(req));
}

// A SPIFFS image as mkspiffs writes it: lookup table, then the first file's index header.
TEST(PushPreflight, SpiffsImageIsRecognisedEitherWay) {
    bytes fs(8192, 0xFF);
    fs[0] = 0x01, fs[1] = 0x80, fs[2] = 0x01, fs[3] = 0x00;  // ids: index header 0x8001, data 0x0001
    fs[256] = 0x01, fs[257] = 0x80, fs[258] = 0x00, fs[259] = 0x00, fs[260] = 0xF8;
    fs[256 + 8] = 5, fs[256 + 9] = fs[256 + 10] = fs[256 + 11] = 0;
    fs[256 + 12] = 1;
    const std::string name = "/index.html";
    std::copy(name.begin(), name.end(), fs.begin() + 256 + 13);
    fs[256 + 13 + name.size()] = 0;
    auto r = preflight_image(app(fs));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("SPIFFS filesystem image"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().hint.find("--fs"), std::string::npos);
    auto req = app(fs);
    req.filesystem = true;
    auto ok = preflight_image(req);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->summary, "SPIFFS filesystem image");
}

TEST(PushPreflight, MergedFactoryImageWarns) {
    image_spec boot_spec;
    boot_spec.target = chip::esp32c3;
    boot_spec.bootloader = bootloader_desc_spec{};
    image_spec app_spec;
    app_spec.target = chip::esp32c3;
    app_spec.app = app_desc_spec{};
    const bytes boot = build_image(boot_spec);
    const bytes app_image = build_image(app_spec);
    const bytes merged = build_merged(chip::esp32c3, boot, build_partition_table(default_partitions()),
                                      {{0x10000, app_image}});
    auto r = preflight_image(app(merged));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(any_contains(r->warnings, "merged flash image"));
}

TEST(PushPreflight, BootloaderWarns) {
    image_spec spec;
    spec.target = chip::esp32c3;
    spec.bootloader = bootloader_desc_spec{};
    const bytes data = build_image(spec);
    auto r = preflight_image(app(data));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(any_contains(r->warnings, "bootloader")) << (r->warnings.empty() ? "" : r->warnings[0]);
}

// Issue 12 item 16: the real bootloaders carry no descriptor; their load addresses give them away.
TEST(PushPreflight, BootloadersWithoutADescriptorWarnByTheirLoadAddresses) {
    for (const char* name : {"bootloader_esp32.bin", "bootloader_esp32c3.bin"}) {
        const bytes data = read_fixture_image(name);
        auto r = preflight_image(app(data));
        ASSERT_TRUE(r) << name << ": " << r.error().message;
        EXPECT_TRUE(any_contains(r->warnings, "second-stage bootloader, not an application (no code in flash"))
            << name << ": " << (r->warnings.empty() ? "no warning" : r->warnings[0]);
    }
    // Built ones: code only in the ESP32's bootloader window is a bootloader; the same code with a
    // flash segment is an application.
    image_spec boot;
    boot.target = chip::esp32;
    boot.segments = {{0x3FFF0000, bytes(64, 1)}, {0x40078000, bytes(256, 2)}, {0x40080400, bytes(128, 3)}};
    boot.entry = 0x40080400;
    EXPECT_TRUE(any_contains(preflight_image(app(build_image(boot)))->warnings, "bootloader"));
    image_spec application = boot;
    application.segments.push_back({0x400D0020, bytes(256, 4)});
    EXPECT_TRUE(preflight_image(app(build_image(application)))->warnings.empty());
}

TEST(PushPreflight, PicoImagesAreNotEspImages) {
    const bytes raw(1000, 0x42);
    auto req = app(raw);
    req.chip_name = "rp2040";
    EXPECT_TRUE(preflight_image(req));
    req.chip_name.clear();
    req.pico_port = true;
    EXPECT_TRUE(preflight_image(req));
}

TEST(PushPreflight, AdvisoryTurnsRefusalsIntoWarnings) {
    const bytes raw(1000, 0x42);
    auto req = app(raw);
    req.advisory = true;
    auto r = preflight_image(req);
    ASSERT_TRUE(r);
    EXPECT_TRUE(any_contains(r->warnings, "not an app image"));
}
