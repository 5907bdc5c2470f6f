// The pull server's decisions, one rule per test, as exact status / header / body vectors.

#include <otaflash/proto/pull/decision.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::proto::pull;

namespace {
release::release make(std::string version, chip target, std::size_t size = 1000, std::vector<std::string> channels = {}) {
    release::release r;
    r.title = "sensor";
    r.version = std::move(version);
    r.facts.target = target;
    r.facts.flash_size = 4u << 20;
    r.facts.flash_size_label = "4MB";
    r.channels = std::move(channels);
    bytes data(size, 0x55);
    data[0] = 0xE9;
    r.app = release::make_blob(std::move(data));
    return r;
}

request_facts get(std::string target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return request_facts{"GET", std::move(target), std::move(headers), credentials::not_required, "http://127.0.0.1:8070"};
}

std::string header_of(const response_plan& p, const std::string& name) {
    for (const auto& [k, v] : p.headers)
        if (k == name) return v;
    return "<none>";
}

const std::pair<std::string, std::string> mac8266{"x-ESP8266-STA-MAC", "18:FE:34:00:00:01"};
}  // namespace

struct PullDecision : ::testing::Test {
    release::catalog catalog{std::vector{make("2.4.0", chip::esp8266), make("2.5.0-rc.1", chip::esp8266, 1000, {"beta"})}, {}};
};

TEST_F(PullDecision, FirmwareIs200WithLengthMd5AndEtag) {
    auto p = decide(get("/firmware.bin", {mac8266}), catalog);
    EXPECT_EQ(p.status, 200u);
    EXPECT_EQ(p.body_size(), 1000u);
    EXPECT_EQ(header_of(p, "Content-Type"), "application/octet-stream");
    EXPECT_EQ(header_of(p, "x-MD5"), catalog.releases()[1].app.md5);
    EXPECT_EQ(header_of(p, "ETag"), "\"" + catalog.releases()[1].app.md5 + "\"");
    EXPECT_TRUE(p.whole_image);
    EXPECT_EQ(p.event.kind, release::event_kind::delivered);
    EXPECT_EQ(p.event.device, "18:FE:34:00:00:01");
    EXPECT_EQ(p.event.offered, "2.4.0");
}

TEST_F(PullDecision, SameSketchMd5OrNotOlderVersionIs304) {
    auto md5 = catalog.releases()[1].app.md5;
    for (auto& c : md5) c = static_cast<char>(std::toupper(c));
    auto same = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-sketch-md5", md5}}), catalog);
    EXPECT_EQ(same.status, 304u);
    EXPECT_EQ(same.event.kind, release::event_kind::already_current);
    auto newer = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-version", "2.4.1"}}), catalog);
    EXPECT_EQ(newer.status, 304u);
    EXPECT_EQ(newer.event.decision, "304 runs 2.4.1, not older than 2.4.0");
    auto older = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-version", "2.3.9"}}), catalog);
    EXPECT_EQ(older.status, 200u);
}

TEST_F(PullDecision, OtherChipFlashSizeAndFreeSpaceAre403WithAReason) {
    auto chip = decide(get("/firmware.bin", {{"x-ESP32-STA-MAC", "24:0A:C4:00:00:01"}}), catalog);
    EXPECT_EQ(chip.status, 403u);
    EXPECT_EQ(chip.text, "the image is for esp8266, the device is an esp32\n");
    EXPECT_EQ(chip.event.code, errc::chip_mismatch);
    auto flash = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-chip-size", "1048576"}}), catalog);
    EXPECT_EQ(flash.status, 403u);
    EXPECT_EQ(flash.text, "the image needs 4MB of flash, the device has 1048576 bytes\n");
    auto space = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-free-space", "999"}}), catalog);
    EXPECT_EQ(space.status, 403u);
    EXPECT_EQ(space.text, "the image is 1000 bytes, the device has 999 bytes free\n");
}

TEST_F(PullDecision, SpiffsModeGetsTheFilesystemImageOr404) {
    auto none = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-mode", "spiffs"}}), catalog);
    EXPECT_EQ(none.status, 404u);
    auto releases = catalog.releases();
    releases[1].fs = release::make_blob(bytes(300, 0xFF));
    release::catalog with_fs(releases, {});
    auto fs = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-mode", "spiffs"}}), with_fs);
    EXPECT_EQ(fs.status, 200u);
    EXPECT_EQ(fs.body_size(), 300u);
}

TEST_F(PullDecision, VersionModeAnswersXVersion) {
    auto p = decide(get("/firmware.bin", {mac8266, {"x-ESP8266-mode", "version"}}), catalog);
    EXPECT_EQ(p.status, 200u);
    EXPECT_EQ(header_of(p, "x-version"), "2.4.0");
    EXPECT_EQ(p.body_size(), 0u);
}

TEST_F(PullDecision, RangesAnswer206Or416AndIfRangeMismatchGetsTheWhole) {
    auto part = decide(get("/firmware.bin", {{"Range", "bytes=100-199"}}), catalog);
    EXPECT_EQ(part.status, 206u);
    EXPECT_EQ(header_of(part, "Content-Range"), "bytes 100-199/1000");
    EXPECT_EQ(part.offset, 100u);
    EXPECT_EQ(part.length, 100u);
    EXPECT_FALSE(part.whole_image);  // a middle range is not a delivery …
    EXPECT_EQ(part.event.kind, release::event_kind::asked);
    auto open = decide(get("/firmware.bin", {{"Range", "bytes=900-"}}), catalog);
    EXPECT_EQ(header_of(open, "Content-Range"), "bytes 900-999/1000");
    EXPECT_TRUE(open.whole_image);  // … one reaching the last byte completes a resumed download
    EXPECT_EQ(open.event.kind, release::event_kind::delivered);
    auto clipped = decide(get("/firmware.bin", {{"Range", "bytes=990-5000"}}), catalog);
    EXPECT_EQ(header_of(clipped, "Content-Range"), "bytes 990-999/1000");
    auto whole_suffix = decide(get("/firmware.bin", {{"Range", "bytes=-5000"}}), catalog);
    EXPECT_EQ(header_of(whole_suffix, "Content-Range"), "bytes 0-999/1000");
    for (const char* ignored : {"bytes=5-2", "bytes=0-1,5-9", "items=0-1", "bytes=x-1", "bytes=-"}) {
        auto whole = decide(get("/firmware.bin", {{"Range", ignored}}), catalog);
        EXPECT_EQ(whole.status, 200u) << ignored;
        EXPECT_EQ(whole.body_size(), 1000u) << ignored;
    }
    EXPECT_EQ(decide(get("/firmware.bin", {{"Range", "bytes=-0"}}), catalog).status, 416u);
    auto suffix = decide(get("/firmware.bin", {{"Range", "bytes=-10"}}), catalog);
    EXPECT_EQ(header_of(suffix, "Content-Range"), "bytes 990-999/1000");
    auto beyond = decide(get("/firmware.bin", {{"Range", "bytes=1000-"}}), catalog);
    EXPECT_EQ(beyond.status, 416u);
    EXPECT_EQ(header_of(beyond, "Content-Range"), "bytes */1000");
    auto stale = decide(get("/firmware.bin", {{"Range", "bytes=100-"}, {"If-Range", "\"old\""}}), catalog);
    EXPECT_EQ(stale.status, 200u);
    EXPECT_EQ(stale.body_size(), 1000u);
}

TEST_F(PullDecision, TraversalAndBadPathsAre400) {
    for (const char* target : {"/../etc/passwd", "/%2e%2e/firmware.bin", "/%2E%2E%2Ffirmware.bin", "/a\\..\\b",
                               "/firmware.bin%00", "//etc/passwd", "http://evil/firmware.bin", "/%zz", "/x%2"})
        EXPECT_EQ(decide(get(target), catalog).status, 400u) << target;
    EXPECT_EQ(decide(get("/etc/passwd"), catalog).status, 404u);
}

TEST_F(PullDecision, OnlyGetAndHead) {
    auto post = decide(request_facts{"POST", "/firmware.bin", {}, credentials::not_required, ""}, catalog);
    EXPECT_EQ(post.status, 405u);
    EXPECT_EQ(header_of(post, "Allow"), "GET, HEAD");
    auto head = decide(request_facts{"HEAD", "/firmware.bin", {}, credentials::not_required, ""}, catalog);
    EXPECT_EQ(head.status, 200u);
    EXPECT_FALSE(head.whole_image);  // a HEAD never counts as a delivery
}

TEST_F(PullDecision, ChannelsVersionManifestAndLatest) {
    auto beta = decide(get("/beta/version"), catalog);
    EXPECT_EQ(beta.text, "2.5.0-rc.1");
    EXPECT_EQ(decide(get("/version"), catalog).text, "2.4.0");
    const auto& app = catalog.releases()[1].app;
    auto manifest = decide(get("/manifest.json"), catalog);
    EXPECT_EQ(manifest.text, "{\"type\":\"sensor\",\"version\":\"2.4.0\",\"url\":\"http://127.0.0.1:8070/firmware/" +
                                 app.sha256 + ".bin\"}\n");
    auto typed = decide(get("/manifest.json"), catalog, settings{"esp8266-sensor"});
    EXPECT_NE(typed.text.find("\"type\":\"esp8266-sensor\""), std::string::npos);
    auto latest = decide(get("/releases/latest"), catalog);
    EXPECT_EQ(latest.text, "{\"tag_name\":\"2.4.0\",\"name\":\"sensor 2.4.0\",\"assets\":[{\"name\":\"sensor-2.4.0-esp8266.bin\","
                           "\"size\":1000,\"browser_download_url\":\"http://127.0.0.1:8070/firmware/" +
                               app.sha256 + ".bin\"}]}\n");
    auto by_hash = decide(get("/firmware/" + app.sha256 + ".bin"), catalog);
    EXPECT_EQ(by_hash.status, 200u);
    EXPECT_EQ(by_hash.blob, app.data);
}

TEST(PullDecisionRules, AllowListPinsAndRolloutReachTheAnswer) {
    release::policy rules;
    rules.allow = {"18:FE:34:00:00:01", "18:FE:34:00:00:02"};
    rules.pins = {{"18:FE:34:00:00:02", "2.3.0"}};
    release::catalog c({make("2.3.0", chip::esp8266), make("2.4.0", chip::esp8266)}, rules);
    auto stranger = decide(get("/firmware.bin", {{"x-ESP8266-STA-MAC", "18:FE:34:00:00:09"}}), c);
    EXPECT_EQ(stranger.status, 403u);
    EXPECT_EQ(stranger.text, "MAC 18:FE:34:00:00:09 is not on the allow-list\n");
    auto pinned = decide(get("/firmware.bin", {{"x-ESP8266-STA-MAC", "18:fe:34:00:00:02"}}), c);
    EXPECT_EQ(pinned.status, 200u);
    EXPECT_EQ(pinned.event.offered, "2.3.0");
    release::policy none;
    none.rollout_percent = 0;
    release::catalog staged({make("2.4.0", chip::esp8266)}, none);
    auto held = decide(get("/firmware.bin", {mac8266}), staged);
    EXPECT_EQ(held.status, 304u);
    EXPECT_EQ(held.event.kind, release::event_kind::refused);
}

TEST(PullDecisionRules, CredentialsMissingOrRejectedAre401) {
    release::catalog c({make("2.4.0", chip::esp8266)}, {});
    auto r = get("/firmware.bin");
    r.auth = credentials::missing;
    auto p = decide(r, c);
    EXPECT_EQ(p.status, 401u);
    EXPECT_EQ(header_of(p, "WWW-Authenticate"), "Basic realm=\"otaflash\"");
    r.auth = credentials::rejected;
    EXPECT_EQ(decide(r, c).event.code, errc::auth_failed);
}

TEST(PullDecisionRules, UnreadableRequestsAre431Or400) {
    auto big = unreadable_request(true);
    EXPECT_EQ(big.status, 431u);
    EXPECT_EQ(big.text, "request header fields too large\n");
    EXPECT_EQ(big.event.kind, release::event_kind::refused);
    auto bad = unreadable_request(false);
    EXPECT_EQ(bad.status, 400u);
    EXPECT_EQ(bad.text, "malformed request\n");
}
