// `otaflash publish` on the built binary: the tree on disk (checked with the real sha256sum),
// re-publishing (idempotent, stale files kept or pruned), and every refusal's exit code.

#include "fixtures.hpp"
#include "image_builder.hpp"
#include "subprocess.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <filesystem>

using namespace otaflash;
using namespace otaflash::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
std::string text_of(const bytes& b) { return std::string(b.begin(), b.end()); }

json parse_json(const process_result& r) {
    auto j = json::parse(r.out, nullptr, false);
    if (!j.is_object()) ADD_FAILURE() << "not one JSON document:\n" << r.out << r.err;
    return j;
}

// Every regular file below `dir`, relative, sorted.
std::vector<std::string> files_below(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

process_result sha256sum_check(const std::string& dir) {
    process_options in_dir;
    in_dir.working_dir = dir;
    return run_process({"/usr/bin/sha256sum", "--check", "--strict", "SHA256SUMS"}, in_dir);
}

}  // namespace

struct Publish : ::testing::Test {
    temp_dir tmp;
    bytes v1 = build_sized_app(chip::esp32, 64 * 1024, "2.4.0", 1);
    bytes v2 = build_sized_app(chip::esp32, 80 * 1024, "2.5.0", 2);
    std::string app1 = tmp.write("sensor-2.4.0.bin", v1);
    std::string app2 = tmp.write("sensor-2.5.0.bin", v2);
    std::string site = tmp.file("site");
    const std::string base = "https://ota.example.com/fleet";
};

TEST_F(Publish, WritesTheTreeAndSha256sumChecksIt) {
    auto r = run_otaflash({"publish", app1, "--out", site, "--base-url", base + "/"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    auto files = files_below(site);
    ASSERT_EQ(files.size(), 6u) << r.out;
    EXPECT_EQ(files[0], "SHA256SUMS");
    EXPECT_EQ(files[1], "firmware.bin");
    EXPECT_TRUE(files[2].starts_with("firmware/") && files[2].ends_with(".bin")) << files[2];
    EXPECT_EQ((std::vector<std::string>(files.begin() + 3, files.end())),
              (std::vector<std::string>{"manifest.json", "releases/latest", "version"}));
    EXPECT_EQ(slurp(site + "/firmware.bin"), v1);
    EXPECT_EQ(slurp(site + "/" + files[2]), v1);
    EXPECT_EQ(text_of(slurp(site + "/version")), "2.4.0");
    auto manifest = json::parse(text_of(slurp(site + "/manifest.json")));
    EXPECT_EQ(manifest["url"], base + "/" + files[2]);  // the trailing '/' of --base-url dropped
    EXPECT_EQ(manifest["version"], "2.4.0");
    auto latest = json::parse(text_of(slurp(site + "/releases/latest")));
    EXPECT_EQ(latest["assets"][0]["browser_download_url"], manifest["url"]);
    EXPECT_EQ(latest["assets"][0]["size"], v1.size());
    auto check = sha256sum_check(site);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_TRUE(contains(check.out, "firmware.bin: OK")) << check.out;
    EXPECT_TRUE(contains(check.out, "releases/latest: OK")) << check.out;
    EXPECT_TRUE(contains(r.out, "written   ")) << r.out;
    EXPECT_TRUE(contains(r.out, "published 1 release(s) as 6 files in " + site + " (6 written, 0 unchanged)")) << r.out;
}

TEST_F(Publish, ChannelsGetTheirOwnFoldersAndSha256sumChecksThemToo) {
    fs::create_directories(tmp.file("rel"));
    fs::copy_file(app1, tmp.file("rel/a.bin"));
    fs::copy_file(app2, tmp.file("rel/b.bin"));
    tmp.write("rel/releases.json", std::string(R"({"releases": [{"image": "a.bin"}, {"image": "b.bin", "channels": ["beta"]}]})"));
    auto r = run_otaflash({"publish", tmp.file("rel"), "--out", site, "--base-url", base});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(text_of(slurp(site + "/version")), "2.4.0");
    EXPECT_EQ(text_of(slurp(site + "/beta/version")), "2.5.0");
    EXPECT_EQ(slurp(site + "/beta/firmware.bin"), v2);
    auto manifest = json::parse(text_of(slurp(site + "/beta/manifest.json")));
    const std::string url = manifest["url"];
    ASSERT_TRUE(url.starts_with(base + "/beta/firmware/")) << url;
    EXPECT_EQ(slurp(site + url.substr(base.size())), v2);
    auto check = sha256sum_check(site);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_TRUE(contains(check.out, "beta/manifest.json: OK")) << check.out;
}

TEST_F(Publish, RepublishingTheSameReleasesChangesNothingNotEvenMtimes) {
    ASSERT_EQ(run_otaflash({"publish", app1, "--out", site, "--base-url", base}).exit_code, 0);
    const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24 * 365);
    for (const auto& f : files_below(site)) fs::last_write_time(site + "/" + f, old_time);
    auto again = run_otaflash({"--json", "publish", app1, "--out", site, "--base-url", base});
    ASSERT_EQ(again.exit_code, 0) << again.out;
    auto doc = parse_json(again);
    EXPECT_EQ(doc["result"]["written"], 0);
    EXPECT_EQ(doc["result"]["unchanged"], 6);
    for (const auto& f : doc["result"]["files"]) EXPECT_FALSE(f["written"].get<bool>()) << f;
    for (const auto& f : files_below(site)) EXPECT_EQ(fs::last_write_time(site + "/" + f), old_time) << f;
    // A different --base-url changes the manifests only.
    auto moved = run_otaflash({"--json", "publish", app1, "--out", site, "--base-url", "http://10.0.0.2"});
    auto moved_doc = parse_json(moved);
    std::vector<std::string> rewritten;
    for (const auto& f : moved_doc["result"]["files"])
        if (f["written"].get<bool>()) rewritten.push_back(f["path"]);
    EXPECT_EQ(rewritten, (std::vector<std::string>{"manifest.json", "releases/latest", "SHA256SUMS"}));
    EXPECT_TRUE(fs::last_write_time(site + "/firmware.bin") == old_time);
}

TEST_F(Publish, AnOlderImageIsKeptWithAWarningOrPrunedAndOtherFilesAreNeverTouched) {
    ASSERT_EQ(run_otaflash({"publish", app1, "--out", site, "--base-url", base, "--channel", "beta", "--channel", "stable"})
                  .exit_code,
              0);
    tmp.write("site/index.html", std::string("<p>mine</p>"));
    tmp.write("outside.txt", std::string("keep"));
    auto second = run_otaflash({"--json", "publish", app2, "--out", site, "--base-url", base});
    ASSERT_EQ(second.exit_code, 0) << second.out;
    auto doc = parse_json(second);
    // The 2.4.0 image and the whole beta and stable channels are gone from the tree, kept on disk.
    std::vector<std::string> stale = doc["result"]["stale"];
    ASSERT_EQ(stale.size(), 11u) << doc["result"]["stale"];
    EXPECT_EQ(stale[0], "beta/firmware.bin");
    EXPECT_TRUE(stale[5].starts_with("firmware/")) << stale[5];
    EXPECT_FALSE(doc["result"]["pruned"].get<bool>());
    ASSERT_EQ(doc["warnings"].size(), 1u) << doc["warnings"];
    EXPECT_TRUE(contains(doc["warnings"][0], "11 file(s) of an earlier publish are no longer in the tree and were kept"));
    const auto sums_now = text_of(slurp(site + "/SHA256SUMS"));
    for (const auto& s : stale) {
        EXPECT_TRUE(fs::exists(site + "/" + s)) << s;
        EXPECT_TRUE(contains(sums_now, "  " + s + "\n")) << "kept files stay listed: " << s;
    }
    auto check = sha256sum_check(site);
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    // Publishing the same again: the same stale files, nothing rewritten.
    auto third = run_otaflash({"--json", "publish", app2, "--out", site, "--base-url", base});
    EXPECT_EQ(parse_json(third)["result"]["stale"].size(), 11u);
    EXPECT_EQ(parse_json(third)["result"]["written"], 0);
    // A tampered SHA256SUMS naming a file outside the tree removes nothing outside it.
    auto sums = text_of(slurp(site + "/SHA256SUMS"));
    tmp.write("site/SHA256SUMS", sums + std::string(64, 'a') + "  ../outside.txt\n");
    auto pruned = run_otaflash({"publish", app2, "--out", site, "--base-url", base, "--prune"});
    ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
    EXPECT_TRUE(pruned.err.empty()) << pruned.err;
    EXPECT_TRUE(fs::exists(tmp.file("outside.txt")));
    EXPECT_TRUE(fs::exists(site + "/index.html"));
    for (const auto& s : stale) EXPECT_FALSE(fs::exists(site + "/" + s)) << s;
    EXPECT_FALSE(fs::exists(site + "/beta")) << "a folder left empty is removed";
    EXPECT_FALSE(fs::exists(site + "/stable"));
    EXPECT_TRUE(fs::exists(site + "/firmware")) << "still holds the 2.5.0 image";
    auto now = files_below(site);
    EXPECT_EQ(now.size(), 7u);  // the tree and index.html
    for (const auto& f : now) EXPECT_FALSE(contains(f, ".tmp.")) << f;
    EXPECT_EQ(text_of(slurp(site + "/version")), "2.5.0");
}

TEST_F(Publish, WithoutBaseUrlItWarnsAndUrlsAreRootRelative) {
    auto r = run_otaflash({"publish", app1, "--out", site});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(contains(r.err, "warning: manifest.json and releases/latest name images by root-relative URLs")) << r.err;
    EXPECT_TRUE(contains(r.err, "--base-url https://HOST/PATH")) << r.err;
    auto manifest = json::parse(text_of(slurp(site + "/manifest.json")));
    EXPECT_TRUE(manifest["url"].get<std::string>().starts_with("/firmware/")) << manifest;
}

TEST_F(Publish, BadOptionsExit2BeforeAnythingIsWritten) {
    for (const std::string bad : {"ftp://host", "http://", "https:///path", "ota.example.com", "http://h/x?y=1",
                                  "http://h/#x", "http://h/a b"}) {
        auto r = run_otaflash({"--json", "publish", app1, "--out", site, "--base-url", bad});
        EXPECT_EQ(r.exit_code, 2) << bad;
        auto doc = parse_json(r);
        EXPECT_EQ(doc["error"]["code"], "usage_error") << bad;
        EXPECT_EQ(doc["error"]["message"], "--base-url '" + bad + "' is not an http(s) URL of a folder");
    }
    for (const std::string channel : {"../up", "a/b", "version", "firmware", "releases", "SHA256SUMS"}) {
        auto r = run_otaflash({"publish", app1, "--out", site, "--channel", channel});
        EXPECT_EQ(r.exit_code, 2) << channel << r.err;
        EXPECT_TRUE(contains(r.err, "'" + channel + "'")) << r.err;
    }
    auto no_out = run_otaflash({"publish", app1});
    EXPECT_EQ(no_out.exit_code, 2);
    EXPECT_TRUE(contains(no_out.err, "--out")) << no_out.err;
    EXPECT_FALSE(fs::exists(site));
}

TEST_F(Publish, BrokenReleasesExit4Or3) {
    auto junk = run_otaflash({"--json", "publish", tmp.write("junk.bin", std::string(4096, 'x')), "--out", site,
                              "--version", "1"});
    EXPECT_EQ(junk.exit_code, 4) << junk.out;
    EXPECT_EQ(parse_json(junk)["error"]["code"], "not_an_image");
    auto missing = run_otaflash({"publish", tmp.file("nope.bin"), "--out", site});
    EXPECT_EQ(missing.exit_code, 4) << missing.err;
    EXPECT_TRUE(contains(missing.err, "nope.bin")) << missing.err;
    fs::create_directories(tmp.file("rel"));
    tmp.write("rel/releases.json", std::string(R"({"releases": [{"image": "../sensor-2.4.0.bin"}]})"));
    auto outside = run_otaflash({"publish", tmp.file("rel"), "--out", site});
    EXPECT_EQ(outside.exit_code, 3) << outside.err;
    EXPECT_FALSE(fs::exists(site));
}

TEST_F(Publish, AnUnwritableOutExits9NamingThePath) {
    const auto file = tmp.write("a-file", std::string("x"));
    auto in_the_way = run_otaflash({"--json", "publish", app1, "--out", file});
    EXPECT_EQ(in_the_way.exit_code, 9) << in_the_way.out;
    auto doc = parse_json(in_the_way);
    EXPECT_EQ(doc["error"]["code"], "write_failed");
    EXPECT_EQ(doc["error"]["message"], "cannot create the folder " + file + ": a file of that name is in the way");
    auto below = run_otaflash({"publish", app1, "--out", file + "/site"});
    EXPECT_EQ(below.exit_code, 9) << below.err;
    EXPECT_TRUE(contains(below.err, "error: cannot create the folder " + file + "/site: Not a directory")) << below.err;
    // A file of the tree that cannot be replaced (a folder in its place): named, exit 9, and the
    // images written before it are whole.
    fs::create_directories(site + "/manifest.json");
    auto blocked = run_otaflash({"publish", app1, "--out", site});
    EXPECT_EQ(blocked.exit_code, 9) << blocked.err;
    EXPECT_TRUE(contains(blocked.err, "cannot replace " + site + "/manifest.json")) << blocked.err;
    EXPECT_EQ(slurp(site + "/firmware.bin"), v1);
    EXPECT_FALSE(fs::exists(site + "/SHA256SUMS")) << "SHA256SUMS comes last";
    if (::geteuid() != 0) {  // root writes anywhere
        fs::remove_all(site);
        fs::create_directories(site);
        ::chmod(site.c_str(), 0555);
        auto denied = run_otaflash({"publish", app1, "--out", site});
        EXPECT_EQ(denied.exit_code, 9) << denied.err;
        EXPECT_TRUE(contains(denied.err, "Permission denied")) << denied.err;
        ::chmod(site.c_str(), 0755);
    }
}

TEST_F(Publish, JsonListsEveryFileWithSizeDigestAndContentType) {
    auto r = run_otaflash({"--json", "publish", app1, "--out", site, "--base-url", base, "--type", "sensor-v1"});
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto doc = parse_json(r);
    EXPECT_EQ(doc["command"], "publish");
    EXPECT_EQ(doc["result"]["out"], site);
    EXPECT_EQ(doc["result"]["base_url"], base);
    EXPECT_EQ(doc["result"]["releases"][0]["version"], "2.4.0");
    EXPECT_EQ(doc["result"]["releases"][0]["chip"], "esp32");
    ASSERT_EQ(doc["result"]["files"].size(), 6u);
    std::map<std::string, std::string> types;
    for (const auto& f : doc["result"]["files"]) {
        const std::string path = f["path"];
        EXPECT_EQ(f["size"], fs::file_size(site + "/" + path)) << path;
        types[path] = f["content_type"];
    }
    EXPECT_EQ(types["firmware.bin"], "application/octet-stream");
    EXPECT_EQ(types["manifest.json"], "application/json");
    EXPECT_EQ(types["releases/latest"], "application/json");
    EXPECT_EQ(types["version"], "text/plain; charset=utf-8");
    EXPECT_EQ(doc["result"]["files"].back()["path"], "SHA256SUMS");
    EXPECT_EQ(json::parse(text_of(slurp(site + "/manifest.json")))["type"], "sensor-v1");
    EXPECT_TRUE(r.err.empty()) << r.err;
}
