// The emulated pulling device asks and judges answers as the real client code does
// (../shared/protocols/espota.md §15, pull-updates.md §1): exact headers, exact library words.

#include "emulator/pull/checks.hpp"
#include "emulator/pull/client.hpp"
#include "emulator/pull/fleet.hpp"
#include "emulator/pull/json_events.hpp"

#include "image_builder.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::emulator::pull;
using namespace otaflash::test;

namespace {

bytes esp8266_image(std::uint8_t flash_size_freq) {
    image_spec spec;
    spec.target = chip::esp8266;
    spec.flash_size_freq = flash_size_freq;  // high nibble: 2 = 1MB, 4 = 4MB
    return build_image(spec);
}

}  // namespace

TEST(PullChecks, Esp8266HttpUpdateSendsTheCoreHeadersInOrder) {
    device_profile d;
    d.kind = client_kind::esp8266_httpupdate;
    d.mac = "5C:CF:7F:00:00:01";
    d.version = "2.3.0";
    d.flash_size = 1u << 20;
    d.free_space = 700000;
    d.sketch_size = 300000;
    const header_list want{{"User-Agent", "ESP8266-http-Update"},
                           {"x-ESP8266-Chip-ID", "1234567"},
                           {"x-ESP8266-STA-MAC", "5C:CF:7F:00:00:01"},
                           {"x-ESP8266-AP-MAC", "5C:CF:7F:00:00:01"},
                           {"x-ESP8266-free-space", "700000"},
                           {"x-ESP8266-sketch-size", "300000"},
                           {"x-ESP8266-sketch-md5", std::string(32, '0')},
                           {"x-ESP8266-chip-size", "1048576"},
                           {"x-ESP8266-sdk-version", "2.2.2-dev(38a443e)"},
                           {"x-ESP8266-mode", "spiffs"},
                           {"x-ESP8266-version", "2.3.0"}};
    EXPECT_EQ(arduino_headers(d, "spiffs"), want);
}

TEST(PullChecks, Esp32HttpUpdateSendsNoCacheAndItsPrefix) {
    device_profile d;
    d.kind = client_kind::esp32_httpupdate;
    d.running_md5 = "0123456789abcdef0123456789abcdef";
    const auto h = arduino_headers(d, "sketch");
    ASSERT_GE(h.size(), 3u);
    EXPECT_EQ(h[0], (std::pair<std::string, std::string>{"User-Agent", "ESP32-http-Update"}));
    EXPECT_EQ(h[1], (std::pair<std::string, std::string>{"Cache-Control", "no-cache"}));
    EXPECT_EQ(h[2], (std::pair<std::string, std::string>{"x-ESP32-STA-MAC", "24:0A:C4:00:00:01"}));
    EXPECT_NE(std::find(h.begin(), h.end(), std::pair<std::string, std::string>{"x-ESP32-sketch-md5", d.running_md5}), h.end());
    EXPECT_NE(std::find(h.begin(), h.end(), std::pair<std::string, std::string>{"x-ESP32-chip-size", "4194304"}), h.end());
    d.version.clear();  // no version given: no header, as ESPhttpUpdate.update(client, url)
    for (const auto& [k, v] : arduino_headers(d, "sketch")) EXPECT_NE(k, "x-ESP32-version");
}

TEST(PullChecks, StatusCodesInTheLibrariesWords) {
    EXPECT_FALSE(arduino_status_error(200));
    EXPECT_EQ(*arduino_status_error(304), "no update");
    EXPECT_EQ(*arduino_status_error(401), "Unauthorized (401)");
    EXPECT_EQ(*arduino_status_error(403), "Forbidden (403)");
    EXPECT_EQ(*arduino_status_error(404), "File Not Found (404)");
    EXPECT_EQ(*arduino_status_error(500), "Wrong HTTP Code (500)");
}

TEST(PullChecks, ContentLengthMustBeThereAndFit) {
    device_profile d;
    EXPECT_EQ(*check_length(d, std::nullopt), "Server Did Not Report Size");
    EXPECT_EQ(*check_length(d, 0), "Server Did Not Report Size");
    d.free_space = 100;
    EXPECT_EQ(*check_length(d, 101), "Not Enough space (101 > 100)");
    EXPECT_FALSE(check_length(d, 100));
    d.spiffs = true;  // the filesystem partition bounds a spiffs image, not the sketch space
    d.fs_size = 4096;
    EXPECT_FALSE(check_length(d, 4096));
    EXPECT_EQ(*check_length(d, 4097), "Not Enough space (4097 > 4096)");
}

TEST(PullChecks, Esp32FotaWantsAnOctetStream) {
    device_profile d;
    d.kind = client_kind::esp32fota;
    EXPECT_FALSE(check_content_type(d, "application/octet-stream"));
    EXPECT_EQ(*check_content_type(d, "text/html"), "There was no valid content type in the response ('text/html')");
    EXPECT_EQ(*check_content_type(d, ""), "There was no valid content type in the response ('')");
    d.kind = client_kind::raw;  // Update.writeStream() does not ask
    EXPECT_FALSE(check_content_type(d, "text/html"));
}

TEST(PullChecks, ImageLengthMagicAndMd5) {
    const bytes image = build_sized_app(chip::esp32, 8192, "2.0.0", 3);
    const auto md5_hex = to_hex(md5(image));
    device_profile d;
    EXPECT_FALSE(check_image(d, image.size(), md5_hex, receive_whole(image)));
    std::string upper = md5_hex;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_FALSE(check_image(d, image.size(), upper, receive_whole(image)));  // the device lowercases x-MD5
    EXPECT_EQ(*check_image(d, image.size() + 1, "", receive_whole(image)),
              "Update end failed: wrote " + std::to_string(image.size()) + " of " + std::to_string(image.size() + 1) + " bytes");
    bytes bad = image;
    bad[0] = 0x00;
    EXPECT_EQ(*check_image(d, bad.size(), "", receive_whole(bad)), "Wrong Magic Byte (0x00)");
    bad = image;
    bad.back() ^= 1;
    EXPECT_EQ(*check_image(d, bad.size(), md5_hex, receive_whole(bad)), "MD5 Check Failed (expected " + md5_hex + ", got " + to_hex(md5(bad)) + ")");
    d.spiffs = true;  // a filesystem image has no magic byte; its MD5 still counts
    const bytes fs(4096, 'F');
    EXPECT_FALSE(check_image(d, fs.size(), to_hex(md5(fs)), receive_whole(fs)));
    EXPECT_TRUE(check_image(d, fs.size(), md5_hex, receive_whole(fs)));
}

TEST(PullChecks, Esp8266ChecksTheHeadersFlashSizeAndTakesGzip) {
    device_profile d;
    d.kind = client_kind::esp8266_httpupdate;
    d.flash_size = 1u << 20;
    const bytes fits = esp8266_image(0x20);
    EXPECT_FALSE(check_image(d, fits.size(), "", receive_whole(fits)));
    const bytes big = esp8266_image(0x40);
    EXPECT_EQ(*check_image(d, big.size(), "", receive_whole(big)), "New Binary Does Not Fit Flash Size (4MB > 1024 KB)");
    d.flash_size = 4u << 20;
    EXPECT_FALSE(check_image(d, big.size(), "", receive_whole(big)));
    bytes other = fits;
    other[0] = 0x42;
    EXPECT_EQ(*check_image(d, other.size(), "", receive_whole(other)), "Verify Bin Header Failed (first byte 0x42)");
    const bytes gzip{0x1F, 0x8B, 0x08, 0x00};
    EXPECT_FALSE(check_image(d, gzip.size(), "", receive_whole(gzip)));
    d.kind = client_kind::esp32_httpupdate;  // the esp32 core flashes no gzip
    EXPECT_EQ(*check_image(d, gzip.size(), "", receive_whole(gzip)), "Wrong Magic Byte (0x1f)");
}

TEST(PullChecks, ManifestEntriesAndVersions) {
    auto one = parse_manifest(R"({"type":"sensor","version":"2.4.0","url":"http://h/fw.bin"})", "");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->url, "http://h/fw.bin");
    EXPECT_EQ(one->version, "2.4.0");
    auto list = parse_manifest(
        R"([{"type":"a","version":"1","url":"http://h/a"},{"type":"b","version":2,"host":"h","port":81,"bin":"/b.bin"}])", "b");
    ASSERT_TRUE(list);
    EXPECT_EQ(list->version, "2");
    EXPECT_EQ(list->url, "http://h:81/b.bin");
    EXPECT_EQ(parse_manifest(R"({"type":"a","version":"1","url":"/relative.bin"})", "").error().message,
              "the manifest's url '/relative.bin' is not an absolute http(s) URL");
    EXPECT_EQ(parse_manifest("not json", "").error().message, "the manifest is not JSON");
    EXPECT_EQ(parse_manifest(R"({"type":"a","version":"1","url":"http://h/a"})", "b").error().message,
              "the manifest has no entry of type 'b'");
    EXPECT_TRUE(fota_wants("1.0.0", "1.0.1"));
    EXPECT_TRUE(fota_wants("1.9.0", "1.10.0"));  // semantic, not text
    EXPECT_FALSE(fota_wants("1.0.1", "1.0.0"));
    EXPECT_FALSE(fota_wants("1.0.0", "1.0.0"));
    EXPECT_TRUE(raw_wants("abc", "abd"));
    EXPECT_TRUE(raw_wants("1.0.1", "1.0.0"));  // seed 003: any difference
    EXPECT_FALSE(raw_wants("abc", "abc"));
}

TEST(PullChecks, Urls) {
    auto u = parse_url("https://[::1]:8443/a/manifest.json?x=1");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->tls);
    EXPECT_EQ(u->host, "::1");
    EXPECT_EQ(u->port, 8443);
    EXPECT_EQ(u->target, "/a/manifest.json?x=1");
    EXPECT_EQ(parse_url("http://h")->target, "/");
    EXPECT_EQ(parse_url("http://h")->port, 80);
    EXPECT_EQ(parse_url("https://h/x")->port, 443);
    EXPECT_FALSE(parse_url("ftp://h/"));
    EXPECT_FALSE(parse_url("http://h:99999/"));
    EXPECT_FALSE(parse_url("http://h:0/"));
    EXPECT_FALSE(parse_url("http:///x"));
    // Credentials in a URL would sit on argv and in every event: refused, and not repeated.
    auto with_secret = parse_url("http://ota:hunter2@h/fw.bin");
    ASSERT_FALSE(with_secret);
    EXPECT_EQ(with_secret.error().message.find("hunter2"), std::string::npos) << with_secret.error().message;
    EXPECT_NE(with_secret.error().hint.find("--user"), std::string::npos);
}

// The Authorization value as HTTPClient writes it: Basic base64(user:password) (the vector serve's
// tests send by hand), Bearer as added, Basic winning over an added header, nothing half given.
TEST(PullChecks, AuthorizationAsHttpClientSendsIt) {
    device_credentials c;
    EXPECT_TRUE(authorization_value(c).empty());
    c.user = "ota";
    EXPECT_TRUE(authorization_value(c).empty()) << "ESPhttpUpdate sets Basic only with user and password";
    c.password = secret{"s3cret"};
    EXPECT_EQ(authorization_value(c).reveal(), "Basic b3RhOnMzY3JldA==");
    EXPECT_EQ(credentials_sent(c), "Basic credentials of user 'ota'");
    c.token = secret{"tok-9f8e"};
    EXPECT_EQ(authorization_value(c).reveal(), "Basic b3RhOnMzY3JldA==");  // addHeader drops the bearer one
    c.user.clear();
    EXPECT_EQ(authorization_value(c).reveal(), "Bearer tok-9f8e");
    EXPECT_EQ(credentials_sent(c), "bearer token");
    for (const auto& said : {credentials_sent(c), credentials_sent({"ota", secret{"s3cret"}, {}})}) {
        EXPECT_EQ(said.find("s3cret"), std::string::npos);
        EXPECT_EQ(said.find("tok-9f8e"), std::string::npos);
    }
}

TEST(PullChecks, FleetGroupsCountMacsUpAndNameTheirFiles) {
    EXPECT_EQ(mac_plus("24:0A:C4:00:00:FF", 1), "24:0A:C4:00:01:00");
    EXPECT_EQ(mac_plus("24-0a-c4-00-00-01", 0), "24:0A:C4:00:00:01");
    device_settings base;
    base.url = "http://h/";
    base.out = "got-%d.bin";
    auto group = expand_group(base, "count=3,kind=raw,version=2.0.0,chip=esp8266,flash=1MB,free=4096,mode=spiffs,fs-size=64KB", 5);
    ASSERT_TRUE(group);
    ASSERT_EQ(group->size(), 3u);
    const auto& last = (*group)[2];
    EXPECT_EQ(last.profile.kind, client_kind::raw);
    EXPECT_TRUE(last.profile.esp8266);
    EXPECT_TRUE(last.profile.spiffs);
    EXPECT_EQ(last.profile.fs_size, 64u << 10);
    EXPECT_EQ(last.profile.flash_size, 1u << 20);
    EXPECT_EQ(last.profile.free_space, 4096u);
    EXPECT_EQ(last.profile.mac, "24:0A:C4:00:00:03");
    EXPECT_EQ(last.out, "got-7.bin");
    EXPECT_EQ(expand_group(base, "count=2,colour=red", 0).error().message, "unknown device key 'colour'");
    EXPECT_FALSE(expand_group(base, "kind=esp9000", 0));
    EXPECT_FALSE(expand_group(base, "count=0", 0));
    EXPECT_FALSE(expand_group(base, "mode=ota", 0));
    EXPECT_FALSE(expand_group(base, "drop-after", 0));
}

TEST(PullChecks, EventsAsJsonLines) {
    request_event r{"24:0A:C4:00:00:01", "GET", "http://h/firmware.bin", 206, "bytes=100-", 900, false};
    EXPECT_EQ(to_json_line(r), R"({"event":"request","device":"24:0A:C4:00:00:01","method":"GET","url":"http://h/firmware.bin",)"
                               R"("status":206,"range":"bytes=100-","bytes":900,"cut":false})");
    result_event e;
    e.device = "24:0A:C4:00:00:01";
    e.outcome = "error";
    e.code = errc::device_refused;
    e.detail = "Forbidden (403)";
    e.reason = "wrong chip";
    e.requests = 1;
    e.ms = 3;
    EXPECT_EQ(to_json_line(e), R"({"event":"result","device":"24:0A:C4:00:00:01","outcome":"error","code":"device_refused",)"
                               R"x("detail":"Forbidden (403)","reason":"wrong chip","offered":null,"bytes":0,"md5":null,)x"
                               R"("requests":1,"resumed":0,"file":null,"ms":3})");
}
