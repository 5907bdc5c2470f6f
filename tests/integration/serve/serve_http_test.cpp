// `otaflash serve` over HTTP as devices use it: the built binary on loopback ports, requests
// written byte for byte as ESP8266httpUpdate / HTTPUpdate / esp32FOTA / modem clients send them.

#include "serve_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace otaflash;
using namespace otaflash::test;
using headers = std::vector<std::pair<std::string, std::string>>;

namespace {

std::string text_of(const bytes& b) { return std::string(b.begin(), b.end()); }

// What ESP8266httpUpdate sends (espota.md §15), with the values a test changes.
headers esp8266_headers(const std::string& version, const std::string& sketch_md5 = std::string(32, '0')) {
    return {{"User-Agent", "ESP8266-http-Update"},
            {"x-ESP8266-STA-MAC", "18:FE:34:00:00:01"},
            {"x-ESP8266-AP-MAC", "1A:FE:34:00:00:01"},
            {"x-ESP8266-free-space", "1000000"},
            {"x-ESP8266-sketch-size", "300000"},
            {"x-ESP8266-sketch-md5", sketch_md5},
            {"x-ESP8266-chip-size", "4194304"},
            {"x-ESP8266-sdk-version", "2.2.2-dev(38a443e)"},
            {"x-ESP8266-mode", "sketch"},
            {"x-ESP8266-version", version}};
}

headers esp32_headers(const std::string& version) {
    return {{"User-Agent", "ESP32-http-Update"},
            {"x-ESP32-STA-MAC", "24:0A:C4:00:00:02"},
            {"x-ESP32-AP-MAC", "24:0A:C4:00:00:03"},
            {"x-ESP32-free-space", "1900000"},
            {"x-ESP32-sketch-size", "800000"},
            {"x-ESP32-sketch-md5", std::string(32, '0')},
            {"x-ESP32-chip-size", "4194304"},
            {"x-ESP32-sdk-version", "v4.4"},
            {"x-ESP32-mode", "sketch"},
            {"x-ESP32-version", version}};
}

headers with(headers h, const std::string& name, const std::string& value) {
    for (auto& [k, v] : h)
        if (k == name) {
            v = value;
            return h;
        }
    h.emplace_back(name, value);
    return h;
}

}  // namespace

struct ServeHttp : ::testing::Test {
    temp_dir dir;
    bytes image8266 = esp8266_image();
    bytes image32 = esp32_image(200 * 1024);
    std::string file8266 = dir.write("blink.bin", image8266);
    std::string file32 = dir.write("sensor.bin", image32);
};

TEST_F(ServeHttp, FirstLineNamesTheUrlAndFirmwareHasLengthMd5AndNoChunking) {
    serve_process s({file8266, "--version", "2.4.0"});
    ASSERT_TRUE(s.started()) << s.first_line();
    EXPECT_EQ(s.first_line(), "listening on http://127.0.0.1:" + std::to_string(s.port()) + "/");
    auto r = http_get(s.port(), "/firmware.bin", esp8266_headers("2.3.0"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Content-Length"), std::to_string(image8266.size()));
    EXPECT_FALSE(r->header("Transfer-Encoding"));
    EXPECT_EQ(r->header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(r->header("x-MD5"), to_hex(md5(image8266)));
    EXPECT_EQ(r->header("ETag"), "\"" + to_hex(md5(image8266)) + "\"");
    EXPECT_EQ(r->header("Connection"), "close");  // HTTP/1.0 clients: the server closes
    EXPECT_EQ(r->body, text_of(image8266));
    auto line = s.wait_line("delivered GET /firmware.bin");
    ASSERT_TRUE(line);
    EXPECT_NE(line->find("18:FE:34:00:00:01 http delivered GET /firmware.bin chip=esp8266 runs=2.3.0 offered=2.4.0: 200 image ("
                         + std::to_string(image8266.size()) + "/" + std::to_string(image8266.size()) + " bytes,"),
              std::string::npos)
        << *line;
}

TEST_F(ServeHttp, HeaderDecisions304And403AndModes) {
    const std::string fs_file = dir.write("fs.bin", std::string(4096, 'F'));
    serve_process s({file8266, "--version", "2.4.0", "--fs", fs_file});
    ASSERT_TRUE(s.started()) << s.first_line();
    const auto md5_hex_upper = [&] {
        auto h = to_hex(md5(image8266));
        for (auto& c : h) c = static_cast<char>(std::toupper(c));
        return h;
    }();
    auto same_md5 = http_get(s.port(), "/firmware.bin", esp8266_headers("1.0.0", md5_hex_upper));
    ASSERT_TRUE(same_md5);
    EXPECT_EQ(same_md5->status, 304);
    EXPECT_EQ(same_md5->body, "");
    EXPECT_EQ(http_get(s.port(), "/firmware.bin", esp8266_headers("2.4.0"))->status, 304);
    EXPECT_EQ(http_get(s.port(), "/firmware.bin", esp8266_headers("v2.10.0"))->status, 304);  // newer: never a downgrade
    EXPECT_EQ(http_get(s.port(), "/firmware.bin", esp8266_headers("2.3.9"))->status, 200);

    auto other_chip = http_get(s.port(), "/firmware.bin", esp32_headers("1.0.0"));
    ASSERT_TRUE(other_chip);
    EXPECT_EQ(other_chip->status, 403);
    EXPECT_EQ(other_chip->body, "the image is for esp8266, the device is an esp32\n");
    auto no_space = http_get(s.port(), "/firmware.bin", with(esp8266_headers("1.0.0"), "x-ESP8266-free-space", "100"));
    EXPECT_EQ(no_space->status, 403);
    EXPECT_EQ(no_space->body, "the image is " + std::to_string(image8266.size()) + " bytes, the device has 100 bytes free\n");
    auto small_flash = http_get(s.port(), "/firmware.bin", with(esp8266_headers("1.0.0"), "x-ESP8266-chip-size", "1024"));
    EXPECT_EQ(small_flash->status, 403);
    EXPECT_NE(small_flash->body.find("of flash, the device has 1024 bytes"), std::string::npos) << small_flash->body;
    EXPECT_TRUE(s.wait_line("refused GET /firmware.bin chip=esp32"));

    auto version = http_get(s.port(), "/firmware.bin", with(esp8266_headers("1.0.0"), "x-ESP8266-mode", "version"));
    EXPECT_EQ(version->status, 200);
    EXPECT_EQ(version->header("x-version"), "2.4.0");
    EXPECT_EQ(version->header("Content-Length"), "0");
    auto spiffs = http_get(s.port(), "/firmware.bin", with(esp8266_headers("1.0.0"), "x-ESP8266-mode", "spiffs"));
    EXPECT_EQ(spiffs->status, 200);
    EXPECT_EQ(spiffs->body, std::string(4096, 'F'));
    EXPECT_EQ(spiffs->header("x-MD5"), md5_hex(std::string(4096, 'F')));
}

TEST_F(ServeHttp, SpiffsWithoutFilesystemImageIs404) {
    serve_process s({file8266, "--version", "2.4.0"});
    ASSERT_TRUE(s.started()) << s.first_line();
    auto r = http_get(s.port(), "/firmware.bin", with(esp8266_headers("1.0.0"), "x-ESP8266-mode", "spiffs"));
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->body, "blink 2.4.0 has no filesystem image\n");
}

TEST_F(ServeHttp, HeadAndRangeEdgeCases) {
    serve_process s({file32});
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::string whole = text_of(image32);
    const std::string size = std::to_string(whole.size());
    auto head = http_exchange(s.port(), request_text("HEAD", "/firmware.bin", s.port()));
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("Content-Length"), size);
    EXPECT_EQ(head->body, "");

    auto part = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=10-19"}});
    EXPECT_EQ(part->status, 206);
    EXPECT_EQ(part->header("Content-Range"), "bytes 10-19/" + size);
    EXPECT_EQ(part->header("Content-Length"), "10");
    EXPECT_EQ(part->body, whole.substr(10, 10));
    auto first = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=0-0"}});
    EXPECT_EQ(first->body, whole.substr(0, 1));
    auto suffix = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=-16"}});
    EXPECT_EQ(suffix->body, whole.substr(whole.size() - 16));
    auto past_end = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=100-99999999"}});
    EXPECT_EQ(past_end->status, 206);
    EXPECT_EQ(past_end->body, whole.substr(100));
    auto beyond = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=" + size + "-"}});
    EXPECT_EQ(beyond->status, 416);
    EXPECT_EQ(beyond->header("Content-Range"), "bytes */" + size);
    auto stale = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=100-"}, {"If-Range", "\"0123\""}});
    EXPECT_EQ(stale->status, 200);
    EXPECT_EQ(stale->body, whole);
    auto several = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=0-1,5-6"}});
    EXPECT_EQ(several->status, 200);
    // A resumed download: the rest from where the link dropped, If-Range the ETag seen before.
    auto resumed = http_get(s.port(), "/firmware.bin", {{"Range", "bytes=1000-"}, {"If-Range", *head->header("ETag")}});
    EXPECT_EQ(resumed->status, 206);
    EXPECT_EQ(resumed->body, whole.substr(1000));
    auto line = s.wait_line(": 206 bytes 1000-");
    ASSERT_TRUE(line);
    EXPECT_NE(line->find(" http delivered GET /firmware.bin"), std::string::npos) << *line;
}

TEST_F(ServeHttp, VersionManifestLatestAndChannelsFromAReleaseFolder) {
    const bytes beta = esp32_image(100 * 1024, "2.5.0-rc.1", 7);
    dir.write("sensor-beta.bin", beta);
    dir.write("releases.json", std::string(R"({"releases": [
        {"title": "sensor", "version": "2.4.0", "image": "sensor.bin", "chip": "esp32"},
        {"title": "sensor", "version": "2.5.0-rc.1", "image": "sensor-beta.bin", "channels": ["beta"]}]})"));
    serve_process s({dir.path(), "--type", "esp32-fota-http"});
    ASSERT_TRUE(s.started()) << s.first_line();
    auto version = http_get(s.port(), "/version");
    EXPECT_EQ(version->status, 200);
    EXPECT_EQ(version->body, "2.4.0");
    EXPECT_EQ(http_get(s.port(), "/beta/version")->body, "2.5.0-rc.1");
    EXPECT_EQ(http_get(s.port(), "/nightly/version")->status, 404);

    auto manifest = http_get(s.port(), "/beta/manifest.json");
    ASSERT_EQ(manifest->status, 200);
    EXPECT_EQ(manifest->header("Content-Type"), "application/json");
    auto m = nlohmann::json::parse(manifest->body);
    EXPECT_EQ(m["type"], "esp32-fota-http");
    EXPECT_EQ(m["version"], "2.5.0-rc.1");
    const std::string prefix = "http://127.0.0.1:" + std::to_string(s.port());
    const std::string url = m["url"];
    ASSERT_TRUE(url.starts_with(prefix + "/beta/")) << url;
    auto image = http_get(s.port(), url.substr(prefix.size()));
    EXPECT_EQ(image->body, text_of(beta));

    auto latest = http_get(s.port(), "/releases/latest");
    ASSERT_EQ(latest->status, 200);
    auto l = nlohmann::json::parse(latest->body);
    EXPECT_EQ(l["tag_name"], "2.4.0");
    ASSERT_EQ(l["assets"].size(), 1u);
    EXPECT_EQ(l["assets"][0]["size"], image32.size());
    const std::string asset = l["assets"][0]["browser_download_url"];
    EXPECT_EQ(http_get(s.port(), asset.substr(prefix.size()))->body, text_of(image32));

    auto beta_firmware = http_get(s.port(), "/beta/firmware.bin", esp32_headers("2.4.0"));
    EXPECT_EQ(beta_firmware->status, 200);
    EXPECT_EQ(beta_firmware->header("x-version"), "2.5.0-rc.1");
    EXPECT_EQ(http_get(s.port(), "/firmware.bin", esp32_headers("2.4.0"))->status, 304);
}

TEST_F(ServeHttp, DeviceCredentialsBasicOrBearerFromEnvironmentAndFile) {
    const std::string token_file = dir.write("token", std::string("tok-9f8e\n"));
    process_options env;
    env.env["OTAFLASH_DEVICE_PASSWORD"] = "s3cret";
    serve_process s({file8266, "--version", "2.4.0", "--device-user", "ota", "--device-token-file", token_file}, env);
    ASSERT_TRUE(s.started()) << s.first_line();
    auto none = http_get(s.port(), "/firmware.bin", esp8266_headers("1.0.0"));
    EXPECT_EQ(none->status, 401);
    EXPECT_EQ(none->header("WWW-Authenticate"), "Basic realm=\"otaflash\"");
    auto basic = http_get(s.port(), "/firmware.bin", with(esp8266_headers("1.0.0"), "Authorization", "Basic b3RhOnMzY3JldA=="));
    EXPECT_EQ(basic->status, 200);
    auto wrong = http_get(s.port(), "/firmware.bin", with(esp8266_headers("1.0.0"), "Authorization", "Basic b3RhOndyb25n"));
    EXPECT_EQ(wrong->status, 401);
    auto bearer = http_get(s.port(), "/version", {{"Authorization", "Bearer tok-9f8e"}});
    EXPECT_EQ(bearer->status, 200);
    EXPECT_EQ(http_get(s.port(), "/version", {{"Authorization", "Bearer tok-9f8"}})->status, 401);
    EXPECT_TRUE(s.wait_line("credentials rejected"));
    auto done = s.stop();
    for (const auto& line : s.lines()) {
        EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
        EXPECT_EQ(line.find("tok-9f8e"), std::string::npos) << line;
    }
    EXPECT_EQ(done.err.find("s3cret"), std::string::npos);
}

TEST_F(ServeHttp, DeviceUserWithoutPasswordIsAUsageError) {
    process_options no_password;
    no_password.unset_env = {"OTAFLASH_DEVICE_PASSWORD"};
    auto r = run_otaflash({"serve", file8266, "--version", "2.4.0", "--device-user", "ota", "--listen", "127.0.0.1:0"},
                          no_password);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("--device-user needs a password"), std::string::npos) << r.err;
}

TEST_F(ServeHttp, JsonLinesListeningThenOneEventPerRequest) {
    serve_process s({"--json", file8266, "--version", "2.4.0"});
    auto first = nlohmann::json::parse(s.first_line());
    EXPECT_EQ(first["event"], "listening");
    ASSERT_EQ(first["urls"].size(), 1u);
    const std::string url = first["urls"][0];
    ASSERT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
    const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(17)));
    ASSERT_EQ(http_get(port, "/firmware.bin", esp8266_headers("1.0.0"))->status, 200);
    auto line = s.wait_line("\"delivered\"");
    ASSERT_TRUE(line);
    auto e = nlohmann::json::parse(*line);
    EXPECT_EQ(e["event"], "device");
    EXPECT_EQ(e["device"], "18:FE:34:00:00:01");
    EXPECT_EQ(e["transport"], "http");
    EXPECT_EQ(e["request"], "GET /firmware.bin");
    EXPECT_EQ(e["bytes"], image8266.size());
    EXPECT_EQ(e["total"], image8266.size());
    auto stopped = s.stop(SIGINT);
    EXPECT_EQ(stopped.exit_code, 130);
    auto summary = nlohmann::json::parse(s.lines().back());
    EXPECT_EQ(summary["event"], "summary");
    EXPECT_EQ(summary["delivered"], 1);
}

TEST_F(ServeHttp, ExpectedDevicesEndTheRunWithZeroOrTheDeadlineCode) {
    {
        serve_process s({file8266, "--version", "2.4.0", "--expect", "18:fe:34:00:00:01", "--expect", "18-FE-34-00-00-02",
                         "--deadline", "20s"});
        ASSERT_TRUE(s.started()) << s.first_line();
        EXPECT_EQ(http_get(s.port(), "/firmware.bin", esp8266_headers("1.0.0"))->status, 200);
        EXPECT_TRUE(s.wait_line("delivered"));
        EXPECT_TRUE(s.process().running());  // one of two
        auto second = with(esp8266_headers("1.0.0"), "x-ESP8266-STA-MAC", "18:FE:34:00:00:02");
        EXPECT_EQ(http_get(s.port(), "/firmware.bin", second)->status, 200);
        EXPECT_TRUE(s.wait_line("served 2 requests, 2 complete downloads"));
        auto r = s.stop(0);
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    {
        serve_process s({file8266, "--version", "2.4.0", "--expect", "18:FE:34:00:00:01", "--deadline", "20s"});
        ASSERT_TRUE(s.started()) << s.first_line();
        EXPECT_EQ(http_get(s.port(), "/firmware.bin", esp8266_headers("2.4.0"))->status, 304);  // already running it
        EXPECT_TRUE(s.wait_line("served 1 requests, 0 complete downloads"));
        auto r = s.stop(0);
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    {
        serve_process s({file8266, "--version", "2.4.0", "--expect", "18:FE:34:00:00:01", "--deadline", "1s"});
        ASSERT_TRUE(s.started()) << s.first_line();
        EXPECT_TRUE(s.wait_line("served 0 requests", std::chrono::seconds(5)));
        auto r = s.stop(0);
        EXPECT_EQ(r.exit_code, 10) << r.err;  // expected_devices_missing
    }
}

TEST_F(ServeHttp, Http11KeepsTheConnectionForTheNextRequest) {
    serve_process s({file8266, "--version", "2.4.0"});
    ASSERT_TRUE(s.started()) << s.first_line();
    // Two pipelined requests on one connection; the second asks to close.
    auto r = http_exchange(s.port(), "GET /version HTTP/1.1\r\nHost: x\r\n\r\n"
                                     "HEAD /firmware.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->header("Connection"));  // HTTP/1.1: open by default
    ASSERT_TRUE(r->body.starts_with("2.4.0HTTP/1.1 200 OK\r\n")) << r->body;
    auto second = parse_reply(r->body.substr(5));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->header("Content-Length"), std::to_string(image8266.size()));
    EXPECT_EQ(second->header("Connection"), "close");
    EXPECT_EQ(second->body, "");
}

// A server log that never reached stdout (`> serve.jsonl` on a full disk) is no success: exit 13
// (output_failed), and what the run itself came to on stderr.
TEST_F(ServeHttp, AStdoutThatCannotBeWrittenExits13) {
    process_options full;
    full.stdout_path = "/dev/full";
    for (const char* mode : {"--json", "--quiet"}) {
        auto r = run_otaflash({mode, "serve", file8266, "--version", "2.4.0", "--listen", "127.0.0.1:0", "--expect",
                               "18:FE:34:00:00:01", "--deadline", "300ms"},
                              full);
        EXPECT_EQ(r.exit_code, 13) << mode << ": " << r.err;
        EXPECT_NE(r.err.find("the result could not be written to standard output: No space left on device"),
                  std::string::npos) << r.err;
        EXPECT_NE(r.err.find("the command itself failed with exit 10 (expected_devices_missing)"), std::string::npos)
            << r.err;
    }
}
