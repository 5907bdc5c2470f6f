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

TEST(PushPreflight, AppSentWithFsWarns) {
    const bytes data = read_fixture_image("helloworld-esp32.bin");
    auto req = app(data);
    req.filesystem = true;
    auto r = preflight_image(req);
    ASSERT_TRUE(r);
    EXPECT_TRUE(any_contains(r->warnings, "drop --fs"));
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
