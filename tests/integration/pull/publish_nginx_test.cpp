// `otaflash publish` → a private nginx on loopback → emulated pulling devices
// (otaflash-pull-device): the static tree works behind a real web server as the devices use it.

#include "fixtures.hpp"
#include "image_builder.hpp"
#include "nginx_server.hpp"
#include "subprocess.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <sstream>

using namespace otaflash;
using namespace otaflash::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

bytes esp32_app(std::string version, std::size_t size, unsigned seed) {
    image_spec spec;
    spec.target = chip::esp32;
    spec.app = app_desc_spec{};
    spec.app->version = std::move(version);
    spec.app->project_name = "sensor";
    spec.segments = {{flash_data_address(chip::esp32), random_bytes(size, seed)},
                     {code_ram_address(chip::esp32), random_bytes(64, seed + 1)}};
    return build_image(spec);
}

std::vector<json> json_lines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        auto j = json::parse(line, nullptr, false);
        if (j.is_object()) out.push_back(std::move(j));
    }
    return out;
}

json result_of(const std::vector<json>& lines) {
    for (const auto& j : lines)
        if (j.value("event", "") == "result") return j;
    return json();
}

process_result pull_device(std::vector<std::string> args) {
    args.insert(args.begin(), bin_path("otaflash-pull-device"));
    process_options o;
    o.timeout = 60s;
    return run_process(args, o);
}

// A site folder nginx (running as nobody) can read, with the release published into it.
struct published {
    temp_dir tmp;
    std::string site = tmp.file("site");
    bytes image;
    std::unique_ptr<nginx_server> nginx;
    process_result publish;

    explicit published(bytes img, std::vector<std::string> more = {}) : image(std::move(img)) {
        ::chmod(tmp.path().c_str(), 0755);
        std::filesystem::create_directories(site);
        ::chmod(site.c_str(), 0755);
        nginx = std::make_unique<nginx_server>(site);
        const auto path = tmp.write("sensor.bin", image);
        std::vector<std::string> args{"publish", path, "--out", site, "--base-url", nginx->url()};
        args.insert(args.end(), more.begin(), more.end());
        publish = run_otaflash(args);
    }
};

}  // namespace

TEST(PublishNginx, TreeHasTheFilesAndChecksums) {
    published p(esp32_app("2.4.0", 64 * 1024, 1));
    ASSERT_EQ(p.publish.exit_code, 0) << p.publish.err;
    for (const char* f : {"version", "manifest.json", "releases/latest", "firmware.bin", "SHA256SUMS"})
        EXPECT_TRUE(std::filesystem::exists(p.site + "/" + f)) << f;
    EXPECT_EQ(slurp(p.site + "/version"), bytes({'2', '.', '4', '.', '0'}));
    EXPECT_EQ(slurp(p.site + "/firmware.bin"), p.image);
    auto manifest = json::parse(as_text(slurp(p.site + "/manifest.json")));
    EXPECT_EQ(manifest["version"], "2.4.0");
    EXPECT_EQ(manifest["type"], "sensor");
    const std::string url = manifest["url"];
    ASSERT_EQ(url.rfind(p.nginx->url() + "/firmware/", 0), 0u) << url;
    // Named by content hash: the file at the url holds exactly the image.
    EXPECT_EQ(slurp(p.site + url.substr(p.nginx->url().size())), p.image);
    auto latest = json::parse(as_text(slurp(p.site + "/releases/latest")));
    EXPECT_EQ(latest["tag_name"], "2.4.0");
    EXPECT_EQ(latest["assets"][0]["browser_download_url"], url);
    EXPECT_EQ(latest["assets"][0]["size"], p.image.size());
    process_options in_site;
    in_site.working_dir = p.site;
    auto sums = run_process({"/usr/bin/sha256sum", "--check", "--strict", "SHA256SUMS"}, in_site);
    EXPECT_EQ(sums.exit_code, 0) << sums.out << sums.err;
    EXPECT_NE(sums.out.find("firmware.bin: OK"), std::string::npos) << sums.out;
}

TEST(PublishNginx, Esp32FotaDevicePullsThroughNginxAndVerifies) {
    published p(esp32_app("2.4.0", 200 * 1024, 2));
    ASSERT_EQ(p.publish.exit_code, 0) << p.publish.err;
    auto r = pull_device({"--kind", "esp32fota", "--url", p.nginx->url() + "/manifest.json", "--version", "1.0.0",
                          "--out", p.tmp.file("got.bin")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << p.nginx->error_log();
    auto result = result_of(json_lines(r.out));
    EXPECT_EQ(result["outcome"], "updated") << result;
    EXPECT_EQ(result["offered"], "2.4.0");
    EXPECT_EQ(result["requests"], 2);  // the manifest, the image
    EXPECT_EQ(slurp(p.tmp.file("got.bin")), p.image);
    EXPECT_NE(p.nginx->access_log().find("GET /manifest.json"), std::string::npos);
}

TEST(PublishNginx, ACutDownloadResumesWithRange) {
    published p(esp32_app("2.4.0", 200 * 1024, 3));
    ASSERT_EQ(p.publish.exit_code, 0) << p.publish.err;
    auto r = pull_device({"--kind", "esp32fota", "--url", p.nginx->url() + "/manifest.json", "--version", "1.0.0",
                          "--drop-after", "50000", "--out", p.tmp.file("got.bin")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    auto lines = json_lines(r.out);
    auto result = result_of(lines);
    EXPECT_EQ(result["outcome"], "updated") << result;
    EXPECT_EQ(result["resumed"], 1);
    bool cut = false, ranged = false;
    for (const auto& j : lines) {
        cut = cut || (j.value("event", "") == "request" && j.value("cut", false) && j.value("bytes", 0) == 50000);
        ranged = ranged || (j.value("status", 0) == 206 && j.value("range", "") == "bytes=50000-");
    }
    EXPECT_TRUE(cut);
    EXPECT_TRUE(ranged);
    EXPECT_EQ(slurp(p.tmp.file("got.bin")), p.image);
    EXPECT_NE(p.nginx->access_log().find(" 206 "), std::string::npos) << p.nginx->access_log();
}

TEST(PublishNginx, RawClientAndADeviceAlreadyCurrent) {
    published p(esp32_app("2.4.0", 32 * 1024, 4));
    ASSERT_EQ(p.publish.exit_code, 0) << p.publish.err;
    auto raw = pull_device({"--kind", "raw", "--url", p.nginx->url(), "--version", "2.3.9", "--out", p.tmp.file("raw.bin")});
    ASSERT_EQ(raw.exit_code, 0) << raw.out << raw.err;
    EXPECT_EQ(result_of(json_lines(raw.out))["outcome"], "updated");
    EXPECT_EQ(slurp(p.tmp.file("raw.bin")), p.image);
    auto current = pull_device({"--kind", "esp32fota", "--url", p.nginx->url() + "/manifest.json", "--version", "2.4.0"});
    ASSERT_EQ(current.exit_code, 0) << current.out << current.err;
    EXPECT_EQ(result_of(json_lines(current.out))["outcome"], "no_update");
}

TEST(PublishNginx, DeviceChecksRefuseWhatTheRealCodeRefuses) {
    published p(esp32_app("2.4.0", 32 * 1024, 5));
    ASSERT_EQ(p.publish.exit_code, 0) << p.publish.err;
    // Too little free space: refused on Content-Length, before the body.
    auto small = pull_device({"--kind", "raw", "--url", p.nginx->url(), "--free-space", "1000"});
    EXPECT_EQ(small.exit_code, 7);
    EXPECT_NE(result_of(json_lines(small.out))["detail"].get<std::string>().find("Not Enough space"), std::string::npos)
        << small.out;
    // An image whose header asks for more flash than the chip has.
    auto flash = pull_device({"--kind", "raw", "--url", p.nginx->url(), "--flash-size", "1MB"});
    EXPECT_EQ(flash.exit_code, 7) << flash.out;
    EXPECT_NE(result_of(json_lines(flash.out))["detail"].get<std::string>().find("Does Not Fit Flash Size"),
              std::string::npos)
        << flash.out;
}

TEST(PublishNginx, WithoutBaseUrlItWarnsAndEsp32FotaRefusesTheRelativeUrl) {
    temp_dir tmp;
    const auto path = tmp.write("sensor.bin", esp32_app("2.4.0", 4096, 6));
    auto r = run_otaflash({"publish", path, "--out", tmp.file("site")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("--base-url"), std::string::npos) << r.err;
    auto manifest = json::parse(as_text(slurp(tmp.file("site/manifest.json"))));
    EXPECT_EQ(manifest["url"].get<std::string>().rfind("/firmware/", 0), 0u);
    EXPECT_EQ(run_otaflash({"publish", path, "--out", tmp.file("x"), "--base-url", "ftp://h"}).exit_code, 2);
    EXPECT_EQ(run_otaflash({"publish", tmp.write("junk.bin", std::string("junk")), "--out", tmp.file("y"), "--version", "1"})
                  .exit_code,
              4);
}
