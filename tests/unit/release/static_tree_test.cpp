// The static tree of `otaflash publish`: exact paths, order and bodies, channels, and that every
// file is what `serve` (proto::pull::decide) answers for the same path.

#include <otaflash/crypto/digest.hpp>
#include <otaflash/proto/pull/static_tree.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::proto::pull;

namespace {
release::release make(std::string version, chip target, std::uint8_t fill, std::vector<std::string> channels = {}) {
    release::release r;
    r.title = "sensor";
    r.version = std::move(version);
    r.facts.target = target;
    r.channels = std::move(channels);
    bytes data(1000, fill);
    data[0] = 0xE9;
    r.app = release::make_blob(std::move(data));
    return r;
}

std::vector<tree_file> tree_of(const release::catalog& c, const std::string& base = "https://ota.example.com/fleet") {
    auto t = static_tree(c, base);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t ? std::move(*t) : std::vector<tree_file>{};
}

std::vector<std::string> paths(const std::vector<tree_file>& t) {
    std::vector<std::string> out;
    for (const auto& f : t) out.push_back(f.path);
    return out;
}

const tree_file& file(const std::vector<tree_file>& t, const std::string& path) {
    for (const auto& f : t)
        if (f.path == path) return f;
    static tree_file none;
    ADD_FAILURE() << "no " << path;
    return none;
}

std::string text(const tree_file& f) { return std::string(reinterpret_cast<const char*>(f.body().data()), f.body().size()); }
}  // namespace

struct StaticTree : ::testing::Test {
    // 2.4.0 in the default channel; 2.5.0-rc.1 in beta only.
    release::catalog catalog{std::vector{make("2.4.0", chip::esp8266, 0x11), make("2.5.0-rc.1", chip::esp8266, 0x22, {"beta"})}, {}};
    std::string stable_sha = catalog.releases()[1].app.sha256;
    std::string beta_sha = catalog.releases()[0].app.sha256;
};

TEST_F(StaticTree, PathsInWriteOrderImagesFirstSumsLast) {
    auto t = tree_of(catalog);
    EXPECT_EQ(paths(t), (std::vector<std::string>{
                            "beta/firmware/" + beta_sha + ".bin", "firmware/" + stable_sha + ".bin",
                            "beta/firmware.bin", "firmware.bin",
                            "beta/manifest.json", "beta/releases/latest", "beta/version",
                            "manifest.json", "releases/latest", "version", "SHA256SUMS"}));
}

TEST_F(StaticTree, BodiesAreExact) {
    auto t = tree_of(catalog);
    const std::string url = "https://ota.example.com/fleet/firmware/" + stable_sha + ".bin";
    EXPECT_EQ(text(file(t, "version")), "2.4.0");
    EXPECT_EQ(text(file(t, "manifest.json")), "{\"type\":\"sensor\",\"version\":\"2.4.0\",\"url\":\"" + url + "\"}\n");
    EXPECT_EQ(text(file(t, "releases/latest")),
              "{\"tag_name\":\"2.4.0\",\"name\":\"sensor 2.4.0\",\"assets\":[{\"name\":\"sensor-2.4.0-esp8266.bin\","
              "\"size\":1000,\"browser_download_url\":\"" + url + "\"}]}\n");
    EXPECT_EQ(text(file(t, "beta/version")), "2.5.0-rc.1");
    EXPECT_NE(text(file(t, "beta/manifest.json")).find("https://ota.example.com/fleet/beta/firmware/" + beta_sha + ".bin"),
              std::string::npos);
    // Images are the release's bytes, shared, not copied.
    EXPECT_EQ(file(t, "firmware.bin").blob, catalog.releases()[1].app.data);
    EXPECT_EQ(file(t, "firmware/" + stable_sha + ".bin").blob, catalog.releases()[1].app.data);
    EXPECT_EQ(file(t, "beta/firmware.bin").blob, catalog.releases()[0].app.data);
    EXPECT_EQ(file(t, "firmware.bin").content_type, "application/octet-stream");
    EXPECT_EQ(file(t, "manifest.json").content_type, "application/json");
    EXPECT_EQ(file(t, "version").content_type, "text/plain; charset=utf-8");
}

TEST_F(StaticTree, Sha256SumsListsEveryOtherFileWithItsDigest) {
    auto t = tree_of(catalog);
    std::string expected;
    std::vector<const tree_file*> sorted;
    for (const auto& f : t)
        if (f.path != "SHA256SUMS") sorted.push_back(&f);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->path < b->path; });
    for (const auto* f : sorted) {
        EXPECT_EQ(f->sha256, to_hex(sha256(f->body()))) << f->path;
        expected += f->sha256 + "  " + f->path + "\n";
    }
    const auto& sums = file(t, "SHA256SUMS");
    EXPECT_EQ(text(sums), expected);
    EXPECT_EQ(sums.sha256, to_hex(sha256(sums.body())));
}

// The tree cannot drift from serve: each file is decide()'s 200 body and Content-Type for its path.
TEST_F(StaticTree, EveryFileIsWhatServeAnswersForItsPath) {
    for (const std::string base : {"https://ota.example.com/fleet", "http://192.168.1.5:8070", ""}) {
        auto t = tree_of(catalog, base);
        for (const auto& f : t) {
            if (f.path == "SHA256SUMS") continue;
            auto plan = decide({"GET", "/" + f.path, {}, credentials::not_required, base}, catalog);
            ASSERT_EQ(plan.status, 200u) << f.path;
            const byte_view served = plan.blob ? byte_view(*plan.blob).subspan(plan.offset, plan.length)
                                               : byte_view(reinterpret_cast<const std::uint8_t*>(plan.text.data()), plan.text.size());
            EXPECT_TRUE(std::equal(served.begin(), served.end(), f.body().begin(), f.body().end())) << base << " " << f.path;
            std::string type;
            for (const auto& [k, v] : plan.headers)
                if (k == "Content-Type") type = v;
            EXPECT_EQ(type, f.content_type) << f.path;
        }
    }
}

TEST_F(StaticTree, WithoutBaseUrlImageUrlsAreRootRelative) {
    auto t = tree_of(catalog, "");
    EXPECT_EQ(text(file(t, "manifest.json")),
              "{\"type\":\"sensor\",\"version\":\"2.4.0\",\"url\":\"/firmware/" + stable_sha + ".bin\"}\n");
}

TEST(StaticTreeChannels, AChannelOnlyReleaseHasNoTopLevelManifestAndAFilesystemImageIsListed) {
    auto r = make("3.0.0", chip::esp32, 0x33, {"beta"});
    bytes fs(512, 0xAB);
    r.fs = release::make_blob(std::move(fs));
    const auto fs_sha = r.fs->sha256, app_sha = r.app.sha256;
    release::catalog c{std::vector{std::move(r)}, {}};
    auto t = tree_of(c);
    EXPECT_EQ(paths(t), (std::vector<std::string>{"beta/firmware/" + std::min(fs_sha, app_sha) + ".bin",
                                                  "beta/firmware/" + std::max(fs_sha, app_sha) + ".bin", "beta/firmware.bin",
                                                  "beta/manifest.json", "beta/releases/latest", "beta/version", "SHA256SUMS"}));
    EXPECT_NE(text(file(t, "beta/releases/latest")).find("\"name\":\"sensor-3.0.0-esp32-fs.bin\",\"size\":512,"
                                                         "\"browser_download_url\":\"https://ota.example.com/fleet/beta/firmware/" +
                                                         fs_sha + ".bin\""),
              std::string::npos);
}

TEST(StaticTreeChannels, AChannelNamedLikeATopLevelFileIsRefused) {
    for (const char* name : {"version", "firmware", "releases", "SHA256SUMS"}) {
        release::catalog c{std::vector{make("1.0.0", chip::esp32, 1, {name})}, {}};
        auto t = static_tree(c, "");
        ASSERT_FALSE(t) << name;
        EXPECT_EQ(t.error().code, errc::usage_error);
        EXPECT_EQ(t.error().message, std::string("channel '") + name + "' has the name of a file or folder at the top of the tree");
    }
}

TEST(StaticTreeStale, FilesOfThePreviousSumsNotInTheTreeAndNothingOutsideIt) {
    release::catalog c{std::vector{make("1.0.0", chip::esp32, 1)}, {}};
    auto t = tree_of(c);
    const std::string h(64, 'a');
    const std::string previous = h + "  version\n" +                 // still in the tree
                                 h + "  firmware/old.bin\n" +        // gone: stale
                                 h + "  beta/manifest.json\n" +      // gone: stale
                                 h + "  ../outside\n" + h + "  /etc/passwd\n" + h + "  a//b\n" + h + "  a/./b\n" +
                                 h + "  %2e%2e/x\n" + h + "  dir/\n" + "xyz  notahash\n" + h + " *binary-mode\n" +
                                 h.substr(1) + "  short-hash\n" + "\n" + h + "  no-newline-at-end";
    std::vector<std::string> stale;
    for (const auto& e : stale_files(previous, t)) {
        stale.push_back(e.path);
        EXPECT_EQ(e.sha256, h);
    }
    EXPECT_EQ(stale, (std::vector<std::string>{"beta/manifest.json", "firmware/old.bin", "no-newline-at-end"}));
    EXPECT_TRUE(stale_files("", t).empty());
    EXPECT_TRUE(stale_files(std::string(64, 'A') + "  upper-case-hex\n", t).empty()) << "publish writes lower case";
}

TEST(StaticTreeStale, KeptFilesStayListedInSha256SumsInPathOrder) {
    release::catalog c{std::vector{make("1.0.0", chip::esp32, 1)}, {}};
    auto t = tree_of(c);
    const std::string h(64, 'b');
    auto sums = sums_file(t, {{h, "firmware/old.bin"}, {h, "beta/version"}});
    EXPECT_EQ(sums.path, "SHA256SUMS");
    const std::string own = text(t.back());
    std::string expected = h + "  beta/version\n";
    // The tree's own lines, with firmware/old.bin in its place by path.
    for (std::size_t at = 0; at < own.size();) {
        const auto nl = own.find('\n', at);
        const std::string line = own.substr(at, nl + 1 - at);
        if (line.substr(66) > "firmware/old.bin\n" && expected.find("old.bin") == std::string::npos)
            expected += h + "  firmware/old.bin\n";
        expected += line;
        at = nl + 1;
    }
    if (expected.find("old.bin") == std::string::npos) expected += h + "  firmware/old.bin\n";
    EXPECT_EQ(text(sums), expected);
    EXPECT_EQ(text(sums_file(t)), own) << "without kept files it is the tree's own";
}
