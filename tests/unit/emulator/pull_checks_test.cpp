// The emulated pulling device judges answers as the real client code does.

#include "emulator/pull/checks.hpp"
#include "emulator/pull/client.hpp"
#include "emulator/pull/fleet.hpp"

#include "image_builder.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::emulator::pull;
using namespace otaflash::test;

namespace {
bytes esp32_image() {
    image_spec spec;
    spec.target = chip::esp32;  // flash_size_freq 0x20: 4MB
    return build_image(spec);
}
}  // namespace

TEST(PullChecks, ArduinoHeadersNameTheFamily) {
    device_profile d;
    d.kind = client_kind::esp8266_httpupdate;
    d.mac = "5C:CF:7F:00:00:01";
    auto h = arduino_headers(d, "sketch");
    EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"User-Agent", "ESP8266-http-Update"}));
    bool mac = false, mode = false;
    for (const auto& [k, v] : h) {
        mac = mac || (k == "x-ESP8266-STA-MAC" && v == "5C:CF:7F:00:00:01");
        mode = mode || (k == "x-ESP8266-mode" && v == "sketch");
    }
    EXPECT_TRUE(mac);
    EXPECT_TRUE(mode);
    d.kind = client_kind::esp32_httpupdate;
    EXPECT_EQ(arduino_headers(d, "sketch")[0].second, "ESP32-http-Update");
}

TEST(PullChecks, StatusCodesAsTheLibrariesName) {
    EXPECT_FALSE(arduino_status_error(200));
    EXPECT_EQ(*arduino_status_error(304), "no update");
    EXPECT_EQ(*arduino_status_error(403), "Forbidden (403)");
    EXPECT_EQ(*arduino_status_error(500), "Wrong HTTP Code (500)");
}

TEST(PullChecks, LengthImageFlashAndMd5) {
    device_profile d;
    EXPECT_EQ(*check_length(d, std::nullopt), "Server Did Not Report Size");
    EXPECT_EQ(*check_length(d, 0), "Server Did Not Report Size");
    d.free_space = 100;
    EXPECT_NE(check_length(d, 101)->find("Not Enough space"), std::string::npos);
    EXPECT_FALSE(check_length(d, 100));

    const bytes image = esp32_image();
    d = device_profile{};
    const auto md5_hex = to_hex(md5(image));
    EXPECT_FALSE(check_image(d, image.size(), md5_hex, image));
    EXPECT_NE(check_image(d, image.size() + 1, "", image)->find("wrote"), std::string::npos);  // short body
    bytes bad = image;
    bad[0] = 0x00;
    EXPECT_NE(check_image(d, bad.size(), "", bad)->find("Verify Bin Header Failed"), std::string::npos);
    bad = image;
    bad.back() ^= 1;
    EXPECT_NE(check_image(d, bad.size(), md5_hex, bad)->find("MD5"), std::string::npos);
    d.flash_size = 1u << 20;  // the image asks for 4MB
    EXPECT_NE(check_image(d, image.size(), "", image)->find("Does Not Fit Flash Size"), std::string::npos);
}

TEST(PullChecks, ManifestEntriesAndVersions) {
    auto one = parse_manifest(R"({"type":"sensor","version":"2.4.0","url":"http://h/fw.bin"})", "");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->url, "http://h/fw.bin");
    auto list = parse_manifest(R"([{"type":"a","version":"1","url":"http://h/a"},{"type":"b","version":2,"host":"h","port":81,"bin":"/b.bin"}])", "b");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->version, "2");
    EXPECT_EQ(list->url, "http://h:81/b.bin");
    EXPECT_FALSE(parse_manifest(R"({"type":"a","version":"1","url":"/relative.bin"})", ""));
    EXPECT_FALSE(parse_manifest("not json", ""));
    EXPECT_FALSE(parse_manifest(R"({"type":"a","version":"1","url":"http://h/a"})", "b"));
    EXPECT_TRUE(fota_wants("1.0.0", "1.0.1"));
    EXPECT_FALSE(fota_wants("1.0.1", "1.0.0"));
    EXPECT_FALSE(fota_wants("1.0.0", "1.0.0"));
    EXPECT_TRUE(raw_wants("abc", "abd"));
    EXPECT_FALSE(raw_wants("abc", "abc"));
}

TEST(PullChecks, UrlsAndFleets) {
    auto u = parse_url("https://[::1]:8443/a/manifest.json?x=1");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->port, 8443);
    EXPECT_EQ(u->target, "/a/manifest.json?x=1");
    EXPECT_EQ(parse_url("http://h")->target, "/");
    EXPECT_FALSE(parse_url("ftp://h/"));
    EXPECT_FALSE(parse_url("http://h:99999/"));
    EXPECT_EQ(mac_plus("24:0A:C4:00:00:FF", 1), "24:0A:C4:00:01:00");
    device_settings base;
    base.url = "http://h/";
    base.out = "got-%d.bin";
    auto group = expand_group(base, "count=3,kind=raw,version=2.0.0,chip=esp8266,flash=1MB,free=4096", 5);
    ASSERT_TRUE(group);
    ASSERT_EQ(group->size(), 3u);
    EXPECT_EQ((*group)[2].profile.kind, client_kind::raw);
    EXPECT_TRUE((*group)[2].profile.esp8266);
    EXPECT_EQ((*group)[2].profile.flash_size, 1u << 20);
    EXPECT_EQ((*group)[2].profile.free_space, 4096u);
    EXPECT_EQ((*group)[2].out, "got-7.bin");
    EXPECT_FALSE(expand_group(base, "count=2,colour=red", 0));
    EXPECT_FALSE(expand_group(base, "kind=esp9000", 0));
}
