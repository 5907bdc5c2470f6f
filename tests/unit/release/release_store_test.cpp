#include <otaflash/release_store/load.hpp>

#include "fixtures.hpp"
#include "image_builder.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::test;

namespace {
bytes esp32_app(std::string version = "2.4.0", std::string project = "sensor") {
    image_spec spec;
    spec.target = chip::esp32;
    spec.app = app_desc_spec{};
    spec.app->version = std::move(version);
    spec.app->project_name = std::move(project);
    return build_image(spec);
}
bytes esp8266_app() {
    image_spec spec;
    spec.target = chip::esp8266;
    return build_image(spec);
}
}  // namespace

TEST(ReleaseStore, ImageFileTakesVersionAndTitleFromItsDescriptor) {
    temp_dir dir;
    auto path = dir.write("app.bin", esp32_app());
    auto loaded = release_store::load_releases({path}, {});
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->size(), 1u);
    const auto& r = loaded->front();
    EXPECT_EQ(r.version, "2.4.0");
    EXPECT_EQ(r.title, "sensor");
    EXPECT_EQ(r.facts.target, chip::esp32);
    EXPECT_EQ(r.app.size(), slurp(path).size());
    EXPECT_EQ(r.app.md5.size(), 32u);
    EXPECT_FALSE(r.fs);
}

TEST(ReleaseStore, OptionsOverrideAndVersionIsRequiredWithoutDescriptor) {
    temp_dir dir;
    auto path = dir.write("blink.bin", esp8266_app());
    auto missing = release_store::load_releases({path}, {});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::usage_error);
    EXPECT_NE(missing.error().hint.find("--version"), std::string::npos);
    release_store::load_options o;
    o.version = "1.0.1";
    o.channels = {"beta"};
    o.fs_image = dir.write("fs.bin", std::string("littlefs"));
    auto loaded = release_store::load_releases({path}, o);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->front().title, "blink");
    EXPECT_EQ(loaded->front().version, "1.0.1");
    EXPECT_EQ(loaded->front().channels, std::vector<std::string>{"beta"});
    ASSERT_TRUE(loaded->front().fs);
    EXPECT_EQ(loaded->front().fs->size(), 8u);
}

TEST(ReleaseStore, BrokenImagesAreRefusedAsInput) {
    temp_dir dir;
    auto good = esp32_app();
    auto bad = good;
    bad[bad.size() - 40] ^= 0xFF;  // inside the image: the checksum or SHA-256 no longer matches
    auto broken = release_store::load_releases({dir.write("bad.bin", bad)}, {});
    ASSERT_FALSE(broken);
    EXPECT_EQ(condition_of(broken.error().code), condition::input);
    auto text = release_store::load_releases({dir.write("text.bin", std::string("hello world, not firmware"))}, {});
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().code, errc::not_an_image);
    auto absent = release_store::load_releases({dir.file("absent.bin")}, {});
    ASSERT_FALSE(absent);
    EXPECT_EQ(absent.error().code, errc::file_not_found);
}

TEST(ReleaseStore, FolderManifestWithChipsChannelsAndFs) {
    temp_dir dir;
    dir.write("s32.bin", esp32_app("3.0.0"));
    dir.write("s8266.bin", esp8266_app());
    dir.write("fs.bin", std::string("spiffs image"));
    dir.write("releases.json", std::string(R"({"releases":[
        {"image":"s32.bin","chip":"esp32","channels":["stable","beta"],"fs":"fs.bin"},
        {"title":"sensor","version":"3.0.0","image":"s8266.bin","chip":"esp8266"}]})"));
    auto loaded = release_store::load_releases({dir.path()}, {});
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->size(), 2u);
    EXPECT_EQ((*loaded)[0].title, "sensor");
    EXPECT_TRUE((*loaded)[0].fs);
    EXPECT_EQ((*loaded)[1].facts.target, chip::esp8266);
}

TEST(ReleaseStore, ManifestMistakesAreNamed) {
    temp_dir dir;
    dir.write("s32.bin", esp32_app());
    auto with = [&](const std::string& manifest) {
        dir.write("releases.json", manifest);
        return release_store::load_releases({dir.path()}, {});
    };
    auto wrong_chip = with(R"({"releases":[{"image":"s32.bin","chip":"esp8266"}]})");
    ASSERT_FALSE(wrong_chip);
    EXPECT_EQ(wrong_chip.error().code, errc::chip_mismatch);
    auto unknown_chip = with(R"({"releases":[{"image":"s32.bin","chip":"esp99"}]})");
    ASSERT_FALSE(unknown_chip);
    EXPECT_EQ(unknown_chip.error().code, errc::chip_mismatch);
    auto escape = with(R"({"releases":[{"image":"../s32.bin"}]})");
    ASSERT_FALSE(escape);
    EXPECT_NE(escape.error().message.find("leaves the release folder"), std::string::npos);
    auto absolute = with(R"({"releases":[{"image":"/etc/passwd"}]})");
    ASSERT_FALSE(absolute);
    auto not_json = with("{releases");
    ASSERT_FALSE(not_json);
    EXPECT_EQ(not_json.error().code, errc::config_invalid);
    auto bad_channel = with(R"({"releases":[{"image":"s32.bin","channels":["../x"]}]})");
    ASSERT_FALSE(bad_channel);
    EXPECT_EQ(bad_channel.error().code, errc::config_invalid);
    // serve would hide /firmware/<sha256>.bin and /releases/latest behind such a channel.
    for (const std::string taken : {"firmware", "releases", "version", "SHA256SUMS"}) {
        auto shadowing = with(R"({"releases":[{"image":"s32.bin","channels":[")" + taken + R"("]}]})");
        ASSERT_FALSE(shadowing) << taken;
        EXPECT_EQ(shadowing.error().code, errc::config_invalid);
        EXPECT_NE(shadowing.error().message.find("channel '" + taken + "'"), std::string::npos) << shadowing.error().message;
        release_store::load_options option;
        option.channels = {taken};
        auto flag = release_store::load_releases({dir.path() + "/s32.bin"}, option);
        ASSERT_FALSE(flag) << taken;
        EXPECT_EQ(flag.error().code, errc::usage_error);
        EXPECT_NE(flag.error().message.find("--channel '" + taken + "'"), std::string::npos);
    }
    auto twice = with(R"({"releases":[{"image":"s32.bin"},{"image":"s32.bin"}]})");
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, errc::usage_error);
}
