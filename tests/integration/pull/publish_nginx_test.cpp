// `otaflash publish` → a private nginx on loopback → HTTP clients as devices use them: the static
// tree works behind a real web server (lengths, types, ranges, caching validators), the README's
// nginx config does what it says, every file is what `otaflash serve` answers for its path, and
// the emulated devices (otaflash-pull-device: esp32FOTA, raw modem client) update through it.

#include "fixtures.hpp"
#include "http_client.hpp"
#include "image_builder.hpp"
#include "nginx_server.hpp"
#include "pull_device_run.hpp"
#include "serve_harness.hpp"
#include "subprocess.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <thread>

using namespace otaflash;
using namespace otaflash::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string text_of(const bytes& b) { return std::string(b.begin(), b.end()); }

// HTTP/1.1 as a modem or a custom client sends it: Host, and the connection closed after the reply.
std::optional<http_reply> get11(std::uint16_t port, const std::string& target,
                                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string raw = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\nConnection: close\r\n";
    for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
    return http_exchange(port, raw + "\r\n");
}

// The ```nginx block of README.md (the config the docs recommend).
std::string readme_nginx_snippet() {
    const auto readme = text_of(slurp(std::string(OTAFLASH_SOURCE_DIR) + "/README.md"));
    const auto start = readme.find("```nginx\n");
    if (start == std::string::npos) return {};
    const auto body = start + 9;
    return readme.substr(body, readme.find("```", body) - body);
}

// A site folder nginx (workers as nobody) can read, a release folder with a stable and a beta
// release (the beta one with a filesystem image), published into the site for nginx's URL.
struct published {
    temp_dir tmp;
    std::string site = tmp.file("site");
    bytes stable = build_sized_app(chip::esp32, 300 * 1024, "2.4.0", 11);
    bytes beta = build_sized_app(chip::esp32, 200 * 1024, "2.5.0-rc.1", 12);
    bytes fs_image = random_bytes(64 * 1024, 13);
    std::unique_ptr<nginx_server> nginx;
    json files;  // result.files of publish --json

    explicit published(const std::string& server_extra = {}) {
        ::chmod(tmp.path().c_str(), 0755);
        fs::create_directories(site);
        nginx = std::make_unique<nginx_server>(site, server_extra);
        fs::create_directories(tmp.file("rel"));
        tmp.write("rel/stable.bin", stable);
        tmp.write("rel/beta.bin", beta);
        tmp.write("rel/beta-fs.bin", fs_image);
        tmp.write("rel/releases.json",
                  std::string(R"({"releases": [{"title": "sensor", "image": "stable.bin"},
                    {"title": "sensor", "image": "beta.bin", "channels": ["beta"], "fs": "beta-fs.bin"}]})"));
        publish();
    }

    process_result publish() {
        auto r = run_otaflash({"--json", "publish", tmp.file("rel"), "--out", site, "--base-url", nginx->url()});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        auto doc = json::parse(r.out, nullptr, false);
        if (doc.is_object()) files = doc["result"]["files"];
        return r;
    }
    std::string image_path(const std::string& manifest) const {
        const std::string url = json::parse(text_of(slurp(site + "/" + manifest)))["url"];
        EXPECT_EQ(url.rfind(nginx->url() + "/", 0), 0u) << url;
        return url.substr(nginx->url().size());
    }
};

}  // namespace

TEST(PublishNginx, EveryFileOverHttp10And11WithItsLengthAndNoChunking) {
    published p;
    ASSERT_EQ(p.files.size(), 12u) << p.files;  // 3 images, 2 firmware.bin, 2 × 3 manifests, SHA256SUMS
    for (const auto& f : p.files) {
        const std::string path = f["path"];
        const auto on_disk = text_of(slurp(p.site + "/" + path));
        ASSERT_EQ(on_disk.size(), f["size"].get<std::size_t>()) << path;
        for (int version : {10, 11}) {
            auto r = version == 10 ? http_get(p.nginx->port(), "/" + path) : get11(p.nginx->port(), "/" + path);
            ASSERT_TRUE(r) << path;
            EXPECT_EQ(r->status, 200) << path;
            EXPECT_EQ(r->header("Content-Length"), std::to_string(on_disk.size())) << path;
            EXPECT_FALSE(r->header("Transfer-Encoding")) << path;
            EXPECT_EQ(r->body, on_disk) << version << " " << path;
            if (path.ends_with(".bin")) {
                EXPECT_EQ(r->header("Content-Type"), "application/octet-stream") << path;
            } else if (path.ends_with(".json")) {
                EXPECT_EQ(r->header("Content-Type"), "application/json") << path;
            }
        }
    }
    // The manifest names an image that nginx serves, byte for byte the release.
    auto manifest = http_get(p.nginx->port(), "/manifest.json");
    ASSERT_TRUE(manifest);
    const std::string url = json::parse(manifest->body)["url"];
    ASSERT_EQ(url.rfind(p.nginx->url() + "/firmware/", 0), 0u) << url;
    auto image = http_get(p.nginx->port(), url.substr(p.nginx->url().size()));
    ASSERT_TRUE(image);
    EXPECT_EQ(image->body, text_of(p.stable));
    auto beta = http_get(p.nginx->port(), p.image_path("beta/manifest.json"));
    ASSERT_TRUE(beta);
    EXPECT_EQ(beta->body, text_of(p.beta));
    auto latest = json::parse(http_get(p.nginx->port(), "/beta/releases/latest")->body);
    ASSERT_EQ(latest["assets"].size(), 2u) << latest;
    const std::string fs_url = latest["assets"][1]["browser_download_url"];
    EXPECT_EQ(http_get(p.nginx->port(), fs_url.substr(p.nginx->url().size()))->body, text_of(p.fs_image));
    EXPECT_NE(p.nginx->access_log().find("\"GET /manifest.json HTTP/1.0\" 200"), std::string::npos) << p.nginx->access_log();
}

TEST(PublishNginx, ACutDownloadResumesWithRangeAndRepublishingKeepsTheValidators) {
    published p;
    const auto path = p.image_path("manifest.json");
    auto whole = get11(p.nginx->port(), path);
    ASSERT_TRUE(whole);
    ASSERT_TRUE(whole->header("ETag") && whole->header("Last-Modified"));
    EXPECT_EQ(whole->header("Accept-Ranges"), "bytes");
    const std::string size = std::to_string(p.stable.size());
    // A device cut after 50000 bytes asks for the rest, with If-Range as a careful client does.
    for (int version : {10, 11}) {
        const std::vector<std::pair<std::string, std::string>> resume{{"Range", "bytes=50000-"}, {"If-Range", *whole->header("ETag")}};
        auto rest = version == 10 ? http_get(p.nginx->port(), path, resume) : get11(p.nginx->port(), path, resume);
        ASSERT_TRUE(rest);
        EXPECT_EQ(rest->status, 206) << version;
        EXPECT_EQ(rest->header("Content-Range"), "bytes 50000-" + std::to_string(p.stable.size() - 1) + "/" + size);
        EXPECT_EQ(rest->header("Content-Length"), std::to_string(p.stable.size() - 50000));
        EXPECT_EQ(whole->body.substr(0, 50000) + rest->body, text_of(p.stable)) << version;
    }
    auto head = get11(p.nginx->port(), path, {{"Range", "bytes=0-99"}});
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 206);
    EXPECT_EQ(head->body, text_of(p.stable).substr(0, 100));
    auto beyond = get11(p.nginx->port(), path, {{"Range", "bytes=" + size + "-"}});
    ASSERT_TRUE(beyond);
    EXPECT_EQ(beyond->status, 416);
    // Publishing the same releases again rewrites nothing: nginx's ETag and Last-Modified (and
    // with them every cache and resumed download) stay valid.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a rewrite would show in the second
    p.publish();
    for (const auto& f : p.files) EXPECT_FALSE(f["written"].get<bool>()) << f;
    auto after = get11(p.nginx->port(), path, {{"Range", "bytes=50000-"}, {"If-Range", *whole->header("ETag")}});
    ASSERT_TRUE(after);
    EXPECT_EQ(after->status, 206);
    EXPECT_EQ(after->header("ETag"), whole->header("ETag"));
    EXPECT_EQ(after->header("Last-Modified"), whole->header("Last-Modified"));
    auto manifest = get11(p.nginx->port(), "/manifest.json", {{"If-None-Match", *get11(p.nginx->port(), "/manifest.json")->header("ETag")}});
    ASSERT_TRUE(manifest);
    EXPECT_EQ(manifest->status, 304) << "the manifest is the same file after a re-publish";
}

TEST(PublishNginx, TheReadmeConfigGivesTypesForFilesWithoutExtensionAndCachesImagesForEver) {
    const auto snippet = readme_nginx_snippet();
    ASSERT_FALSE(snippet.empty()) << "README.md has no ```nginx block";
    published p(snippet);
    auto version = http_get(p.nginx->port(), "/beta/version");
    ASSERT_TRUE(version) << p.nginx->error_log();
    EXPECT_EQ(version->status, 200);
    EXPECT_EQ(version->body, "2.5.0-rc.1");
    EXPECT_EQ(version->header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(http_get(p.nginx->port(), "/SHA256SUMS")->header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(http_get(p.nginx->port(), "/releases/latest")->header("Content-Type"), "application/json");
    auto image = http_get(p.nginx->port(), p.image_path("manifest.json"));
    ASSERT_TRUE(image);
    EXPECT_EQ(image->status, 200);
    EXPECT_EQ(image->header("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(image->header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(image->body, text_of(p.stable));
    // firmware.bin changes with every release: not cached for ever.
    EXPECT_FALSE(http_get(p.nginx->port(), "/firmware.bin")->header("Cache-Control"));
}

// The same release folder served by `otaflash serve` and published for serve's own URL: every
// file of the tree is, byte for byte and with the same Content-Type, serve's answer for its path.
TEST(PublishNginx, EveryFileIsWhatServeAnswersForThePath) {
    temp_dir tmp;
    fs::create_directories(tmp.file("rel"));
    tmp.write("rel/a.bin", build_sized_app(chip::esp32, 100 * 1024, "2.4.0", 21));
    tmp.write("rel/b.bin", build_sized_app(chip::esp32c3, 90 * 1024, "2.4.0", 22));
    tmp.write("rel/c.bin", build_sized_app(chip::esp32, 80 * 1024, "3.0.0-beta", 23));
    tmp.write("rel/releases.json", std::string(R"({"releases": [{"title": "sensor", "image": "a.bin"},
        {"title": "sensor-c3", "image": "b.bin", "channels": ["stable", "beta"]},
        {"title": "sensor", "image": "c.bin", "channels": ["beta"]}]})"));
    serve_process serve({tmp.file("rel")});
    ASSERT_TRUE(serve.started()) << serve.first_line();
    const std::string base = "http://127.0.0.1:" + std::to_string(serve.port());
    auto r = run_otaflash({"--json", "publish", tmp.file("rel"), "--out", tmp.file("site"), "--base-url", base});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    const auto files = json::parse(r.out)["result"]["files"];
    ASSERT_GE(files.size(), 15u);
    for (const auto& f : files) {
        const std::string path = f["path"];
        if (path == "SHA256SUMS") continue;  // serve has no SHA256SUMS
        auto answer = http_get(serve.port(), "/" + path);
        ASSERT_TRUE(answer) << path;
        EXPECT_EQ(answer->status, 200) << path;
        EXPECT_EQ(answer->body, text_of(slurp(tmp.file("site/" + path)))) << path;
        EXPECT_EQ(answer->header("Content-Type"), f["content_type"].get<std::string>()) << path;
    }
    // Several titles: an esp32FOTA array, one entry each.
    auto manifest = json::parse(text_of(slurp(tmp.file("site/manifest.json"))));
    ASSERT_TRUE(manifest.is_array()) << manifest;
    EXPECT_EQ(manifest.size(), 2u);
}

// esp32FOTA as the library does it: the manifest, then the image its url names, checked as the
// device checks it; a device already running the version stops after the manifest.
TEST(PublishNginx, Esp32FotaDevicePullsThroughNginxByteForByte) {
    published p;
    const std::string got = p.tmp.file("got.bin");
    auto run = pull({"--kind", "esp32fota", "--url", p.nginx->url() + "/manifest.json", "--version", "1.0.0", "--out", got});
    ASSERT_EQ(run.r.exit_code, 0) << run.r.out << run.r.err << p.nginx->error_log();
    EXPECT_EQ(run.result()["outcome"], "updated") << run.result();
    EXPECT_EQ(run.result()["offered"], "2.4.0");
    auto requests = run.requests();
    ASSERT_EQ(requests.size(), 2u) << run.r.out;
    EXPECT_EQ(requests[0]["url"], p.nginx->url() + "/manifest.json");
    EXPECT_EQ(requests[1]["url"], p.nginx->url() + p.image_path("manifest.json"));
    EXPECT_EQ(requests[1]["status"], 200);
    EXPECT_EQ(slurp(got), p.stable);

    const std::string beta = p.tmp.file("beta.bin");
    auto tester = pull({"--kind", "esp32fota", "--url", p.nginx->url() + "/beta/manifest.json", "--version", "2.4.0",
                        "--out", beta});
    ASSERT_EQ(tester.r.exit_code, 0) << tester.r.out << tester.r.err;
    EXPECT_EQ(tester.result()["offered"], "2.5.0-rc.1");
    EXPECT_EQ(slurp(beta), p.beta);

    auto current = pull({"--kind", "esp32fota", "--url", p.nginx->url() + "/manifest.json", "--version", "2.4.0"});
    EXPECT_EQ(current.r.exit_code, 0) << current.r.out;
    EXPECT_EQ(current.result()["outcome"], "no_update");
    EXPECT_EQ(current.requests().size(), 1u);  // the manifest only
    const auto log = p.nginx->access_log();
    EXPECT_NE(log.find("\"GET " + p.image_path("manifest.json") + " HTTP/1."), std::string::npos) << log;
}

// A download cut mid-body resumes through nginx where it broke (Range + If-Range against nginx's
// own ETag) and ends byte-identical. The device's small receive window makes the cut real.
TEST(PublishNginx, ACutEsp32FotaDownloadResumesThroughNginx) {
    published p;
    const std::string got = p.tmp.file("resumed.bin");
    auto run = pull({"--kind", "esp32fota", "--url", p.nginx->url() + "/manifest.json", "--version", "1.0.0",
                     "--drop-after", "100000", "--rx-window", "16384", "--out", got});
    expect_resumed_once(run, 100000, p.stable.size());
    EXPECT_EQ(slurp(got), p.stable);
    EXPECT_NE(p.nginx->access_log().find("\" 206 " + std::to_string(p.stable.size() - 100000) + " "), std::string::npos)
        << p.nginx->access_log();
}

// The modem-style client: GET /version, compare the text, GET /firmware.bin sized by Content-Length.
TEST(PublishNginx, RawClientComparesVersionTextAndFetchesFirmwareBin) {
    published p;
    const std::string got = p.tmp.file("raw.bin");
    auto run = pull({"--kind", "raw", "--url", p.nginx->url(), "--version", "2.3.9", "--out", got});
    ASSERT_EQ(run.r.exit_code, 0) << run.r.out << run.r.err;
    EXPECT_EQ(run.result()["outcome"], "updated");
    ASSERT_EQ(run.requests().size(), 2u);
    EXPECT_EQ(run.requests()[1]["url"], p.nginx->url() + "/firmware.bin");
    EXPECT_EQ(slurp(got), p.stable);
    auto same = pull({"--kind", "raw", "--url", p.nginx->url(), "--version", "2.4.0"});
    EXPECT_EQ(same.result()["outcome"], "no_update") << same.r.out;
}
