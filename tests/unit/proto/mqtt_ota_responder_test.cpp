#include <otaflash/proto/mqtt_ota/responder.hpp>
#include <otaflash/util/crc32.hpp>

#include "fixed_releases.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace otaflash;
using namespace otaflash::proto::mqtt_ota;
using otaflash::test::fixed_releases;

namespace {

bytes pattern(std::size_t n, std::uint8_t seed = 0) {
    bytes out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + seed);
    return out;
}

std::string text(const bytes& b) { return std::string(b.begin(), b.end()); }

template <class T>
const T& only_event(const responder_output& out) {
    EXPECT_EQ(out.events.size(), 1u);
    return std::get<T>(out.events.at(0));
}

}  // namespace

class MqttOtaResponder : public ::testing::Test {
protected:
    MqttOtaResponder() {
        releases.add("s31-nb", "v1.6.0", pattern(2500));
        releases.add("other", "v2", pattern(10, 1));
    }
    fixed_releases releases;
};

TEST_F(MqttOtaResponder, SubscribesToRequestsSharedAndStatesUnshared) {
    responder r(ota_profile(), releases, framing::crc32);
    EXPECT_EQ(r.subscriptions(), (std::vector<std::string>{"ota/+/info/request/+", "ota/+/fw/request/+/chunk/+", "ota/+/state"}));
    EXPECT_EQ(r.subscriptions("g1"), (std::vector<std::string>{"$share/g1/ota/+/info/request/+",
                                                                "$share/g1/ota/+/fw/request/+/chunk/+", "ota/+/state"}));
}

TEST_F(MqttOtaResponder, AnswersInfoWithTheReleaseOrNoTitle) {
    responder r(ota_profile(), releases, framing::crc32);
    auto out = r.on_message("ota/node-17/info/request/5", as_bytes(R"({"title":"s31-nb","version":"v1.5.0"})"));
    ASSERT_EQ(out.publishes.size(), 1u);
    EXPECT_EQ(out.publishes[0].topic, "ota/node-17/info/response/5");
    EXPECT_FALSE(out.publishes[0].retain);
    EXPECT_EQ(text(out.publishes[0].payload),
              R"({"title":"s31-nb","version":"v1.6.0","size":2500,"crc32":")" + crc32_text(crc32(pattern(2500))) +
                  R"(","chunk_size":1024,"framing":"crc32"})");
    const auto& asked = only_event<info_asked>(out);
    EXPECT_EQ(asked.device, "node-17");
    EXPECT_EQ(asked.version, "v1.5.0");
    ASSERT_TRUE(asked.offered);

    // Titles are case-sensitive.
    auto none = r.on_message("ota/node-18/info/request/1", as_bytes(R"({"title":"S31-NB","version":"v1"})"));
    ASSERT_EQ(none.publishes.size(), 1u);
    EXPECT_EQ(text(none.publishes[0].payload), R"({"error":"no release titled 'S31-NB'"})");
    EXPECT_FALSE(only_event<info_asked>(none).offered);
}

TEST_F(MqttOtaResponder, ChunkOffsetIsIndexTimesAskedSize) {
    responder r(ota_profile(), releases, framing::crc32);
    (void)r.on_message("ota/d/info/request/1", as_bytes(R"({"title":"s31-nb","version":"v1"})"));
    auto out = r.on_message("ota/d/fw/request/1/chunk/1", as_bytes("1000"));
    ASSERT_EQ(out.publishes.size(), 1u);
    EXPECT_EQ(out.publishes[0].topic, "ota/d/fw/response/1/chunk/1");
    const bytes image = pattern(2500);
    const bytes want = frame_chunk(framing::crc32, byte_view(image).subspan(1000, 1000));
    EXPECT_EQ(out.publishes[0].payload, want);
    const auto& served = only_event<chunk_served>(out);
    EXPECT_EQ(served.offset, 1000u);
    EXPECT_EQ(served.bytes, 1000u);
    EXPECT_EQ(served.total, 2500u);

    // The last chunk carries the rest.
    auto last = r.on_message("ota/d/fw/request/1/chunk/2", as_bytes("1024"));
    ASSERT_EQ(last.publishes.size(), 1u);
    EXPECT_EQ(last.publishes[0].payload.size(), 2500u - 2048u + 4u);
    EXPECT_EQ(only_event<chunk_served>(last).percent, 100);
}

TEST_F(MqttOtaResponder, RawFramingIsTheDataOnly) {
    responder r(ota_profile(), releases, framing::raw);
    (void)r.on_message("ota/d/info/request/1", as_bytes(R"({"title":"other","version":"v1"})"));
    auto out = r.on_message("ota/d/fw/request/1/chunk/0", as_bytes("1024"));
    ASSERT_EQ(out.publishes.size(), 1u);
    EXPECT_EQ(out.publishes[0].payload, pattern(10, 1));
}

TEST_F(MqttOtaResponder, ProgressEveryTenPercent) {
    responder r(ota_profile(), releases, framing::crc32);
    (void)r.on_message("ota/d/info/request/1", as_bytes(R"({"title":"s31-nb","version":"v1"})"));
    std::vector<int> seen;
    for (int i = 0; i < 25; ++i) {
        auto out = r.on_message("ota/d/fw/request/1/chunk/" + std::to_string(i), as_bytes("100"));
        if (auto p = only_event<chunk_served>(out).percent) seen.push_back(*p);
    }
    EXPECT_EQ(seen, (std::vector<int>{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}));
    // A repeated chunk (a retry) reports nothing new; chunk 0 starts over.
    EXPECT_FALSE(only_event<chunk_served>(r.on_message("ota/d/fw/request/1/chunk/24", as_bytes("100"))).percent);
    EXPECT_FALSE(only_event<chunk_served>(r.on_message("ota/d/fw/request/2/chunk/0", as_bytes("100"))).percent);
    EXPECT_EQ(only_event<chunk_served>(r.on_message("ota/d/fw/request/2/chunk/2", as_bytes("100"))).percent, 10);
}

TEST_F(MqttOtaResponder, MalformedChunkRequestsAreRefusedWithoutBytes) {
    responder r(ota_profile(), releases, framing::crc32);
    (void)r.on_message("ota/d/info/request/1", as_bytes(R"({"title":"s31-nb","version":"v1"})"));
    struct probe {
        const char* topic;
        const char* payload;
        const char* reason_has;
    };
    for (const probe& p : {probe{"ota/d/fw/request/1/chunk/x", "1024", "not a decimal number"},
                           probe{"ota/d/fw/request/1/chunk/-1", "1024", "not a decimal number"},
                           probe{"ota/d/fw/request/1/chunk/99999999999", "1024", "not a decimal number"},
                           probe{"ota/d/fw/request/1/chunk/0", "abc", "not a number"},
                           probe{"ota/d/fw/request/1/chunk/0", "0", "not a number"},
                           probe{"ota/d/fw/request/1/chunk/0", "", "not a number"},
                           probe{"ota/d/fw/request/1/chunk/0", "4294967296", "not a number"},
                           probe{"ota/d/fw/request/1/chunk/0", "65537", "not a number"}}) {
        auto out = r.on_message(p.topic, as_bytes(p.payload));
        EXPECT_TRUE(out.publishes.empty()) << p.topic << " " << p.payload;
        const auto& refused = only_event<request_refused>(out);
        EXPECT_NE(refused.reason.find(p.reason_has), std::string::npos) << refused.reason;
        EXPECT_FALSE(refused.answered);
    }
}

TEST_F(MqttOtaResponder, PastTheEndGetsAnEmptyAnswer) {
    responder r(ota_profile(), releases, framing::crc32);
    (void)r.on_message("ota/d/info/request/1", as_bytes(R"({"title":"s31-nb","version":"v1"})"));
    for (const char* chunk : {"3", "4294967295"}) {
        auto out = r.on_message(std::string("ota/d/fw/request/1/chunk/") + chunk, as_bytes("1024"));
        ASSERT_EQ(out.publishes.size(), 1u);
        EXPECT_TRUE(out.publishes[0].payload.empty());
        const auto& refused = only_event<request_refused>(out);
        EXPECT_TRUE(refused.answered);
        EXPECT_NE(refused.reason.find("past the end"), std::string::npos);
    }
    // The biggest size at the biggest index stays inside 64 bits and past the end.
    auto out = r.on_message("ota/d/fw/request/1/chunk/9999999999", as_bytes("65536"));
    ASSERT_EQ(out.publishes.size(), 1u);
    EXPECT_TRUE(out.publishes[0].payload.empty());
}

TEST_F(MqttOtaResponder, NonJsonInfoIsIgnoredWithAReason) {
    responder r(ota_profile(), releases, framing::crc32);
    auto out = r.on_message("ota/d/info/request/1", bytes{0xF9, 0x01});
    EXPECT_TRUE(out.publishes.empty());
    EXPECT_NE(only_event<request_refused>(out).reason.find("not a flat JSON object"), std::string::npos);
}

TEST_F(MqttOtaResponder, ChunkWithoutKnownTitleNeedsASingleRelease) {
    responder two(ota_profile(), releases, framing::crc32);
    auto out = two.on_message("ota/d/fw/request/1/chunk/0", as_bytes("1024"));
    EXPECT_TRUE(out.publishes.empty());
    only_event<request_refused>(out);

    // A sibling server answered the info request: with one release, chunks are still answered.
    fixed_releases one;
    one.add("s31-nb", "v1.6.0", pattern(100));
    responder single(ota_profile(), one, framing::crc32);
    auto served = single.on_message("ota/d/fw/request/1/chunk/0", as_bytes("1024"));
    ASSERT_EQ(served.publishes.size(), 1u);
    EXPECT_EQ(served.publishes[0].payload.size(), 104u);
}

TEST_F(MqttOtaResponder, StateReportsBecomeEvents) {
    responder r(ota_profile(), releases, framing::crc32);
    auto out = r.on_message("ota/node-17/state", as_bytes(R"({"code":7,"message":"crc","title":"s31-nb","version":"v1.5.0"})"));
    EXPECT_TRUE(out.publishes.empty());
    const auto& s = only_event<state_reported>(out);
    EXPECT_EQ(s.device, "node-17");
    EXPECT_EQ(s.report.code, 7);
    EXPECT_TRUE(s.report.final());
    only_event<request_refused>(r.on_message("ota/node-17/state", as_bytes("7")));
    only_event<request_refused>(r.on_message("elsewhere/x", as_bytes("7")));
}

TEST_F(MqttOtaResponder, TriggerIsF901OnTheCommandTopic) {
    responder r(ota_profile(), releases, framing::crc32);
    auto t = r.trigger("node-17");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->topic, "ota/node-17/cmd");
    EXPECT_EQ(t->payload, (bytes{0xF9, 0x01}));
    EXPECT_FALSE(t->retain);
}

TEST(MqttOtaResponderThingsboard, SpeaksThingsboard) {
    fixed_releases one;
    one.add("s31-nb", "v1.6.0", pattern(3000));
    responder r(thingsboard_profile(), one, framing::raw);
    auto info = r.on_message("v1/devices/me/attributes/request/1", as_bytes(R"({"sharedKeys":"fw_title,fw_version"})"));
    ASSERT_EQ(info.publishes.size(), 1u);
    EXPECT_EQ(info.publishes[0].topic, "v1/devices/me/attributes/response/1");
    EXPECT_EQ(text(info.publishes[0].payload).substr(0, 34), R"({"shared":{"fw_title":"s31-nb","fw)");
    EXPECT_EQ(only_event<info_asked>(info).device, "me");

    auto chunk = r.on_message("v2/fw/request/1/chunk/2", as_bytes("1024"));
    ASSERT_EQ(chunk.publishes.size(), 1u);
    EXPECT_EQ(chunk.publishes[0].topic, "v2/fw/response/1/chunk/2");
    const bytes image = pattern(3000);
    EXPECT_EQ(chunk.publishes[0].payload, bytes(image.begin() + 2048, image.end()));

    // An empty payload asks for the whole file.
    auto whole = r.on_message("v2/fw/request/1/chunk/0", {});
    ASSERT_EQ(whole.publishes.size(), 1u);
    EXPECT_EQ(whole.publishes[0].payload, pattern(3000));

    auto state = r.on_message("v1/devices/me/telemetry", as_bytes(R"({"fw_state":"UPDATED"})"));
    EXPECT_TRUE(only_event<state_reported>(state).report.success());

    auto t = r.trigger("anything");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->topic, "v1/devices/me/attributes");
    EXPECT_EQ(text(t->payload).substr(0, 22), R"({"fw_title":"s31-nb",")");
}
