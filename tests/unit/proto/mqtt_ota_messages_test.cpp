#include <otaflash/proto/mqtt_ota/broker_url.hpp>
#include <otaflash/proto/mqtt_ota/messages.hpp>
#include <otaflash/proto/mqtt_ota/topics.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::proto::mqtt_ota;

TEST(MqttOtaTopics, ProfileOtaIsTheContract) {
    const auto& p = ota_profile();
    const topic_fields f{"node-17", "42", "3"};
    EXPECT_EQ(expand(p.info_request, f), "ota/node-17/info/request/42");
    EXPECT_EQ(expand(p.info_response, f), "ota/node-17/info/response/42");
    EXPECT_EQ(expand(p.chunk_request, f), "ota/node-17/fw/request/42/chunk/3");
    EXPECT_EQ(expand(p.chunk_response, f), "ota/node-17/fw/response/42/chunk/3");
    EXPECT_EQ(expand(p.state, f), "ota/node-17/state");
    EXPECT_EQ(expand(p.command, f), "ota/node-17/cmd");
    EXPECT_EQ(subscription_filter(p.chunk_request), "ota/+/fw/request/+/chunk/+");
    EXPECT_TRUE(p.names_devices);
}

TEST(MqttOtaTopics, ProfileThingsboardUsesMe) {
    const auto& p = thingsboard_profile();
    const topic_fields f{"ignored", "1", "0"};
    EXPECT_EQ(expand(p.info_request, f), "v1/devices/me/attributes/request/1");
    EXPECT_EQ(expand(p.info_response, f), "v1/devices/me/attributes/response/1");
    EXPECT_EQ(expand(p.chunk_request, f), "v2/fw/request/1/chunk/0");
    EXPECT_EQ(expand(p.chunk_response, f), "v2/fw/response/1/chunk/0");
    EXPECT_EQ(p.state, "v1/devices/me/telemetry");
    EXPECT_FALSE(p.names_devices);
    auto m = match(p.chunk_request, "v2/fw/request/9/chunk/12");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->device, "me");
    EXPECT_EQ(m->request, "9");
    EXPECT_EQ(m->chunk, "12");
    EXPECT_EQ(find_profile("thingsboard"), &p);
    EXPECT_EQ(find_profile("ota"), &ota_profile());
    EXPECT_EQ(find_profile("aws"), nullptr);
}

TEST(MqttOtaTopics, MatchTakesWholeLevelsOnly) {
    const auto& p = ota_profile();
    auto m = match(p.chunk_request, "ota/dev-1/fw/request/r7/chunk/x");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->device, "dev-1");
    EXPECT_EQ(m->request, "r7");
    EXPECT_EQ(m->chunk, "x");
    EXPECT_FALSE(match(p.chunk_request, "ota/dev-1/fw/request/r7/chunk"));
    EXPECT_FALSE(match(p.chunk_request, "ota/dev-1/fw/request/r7/chunk/1/2"));
    EXPECT_FALSE(match(p.chunk_request, "ota//fw/request/r7/chunk/1"));
    EXPECT_FALSE(match(p.chunk_request, "ota/+/fw/request/r7/chunk/1"));
    EXPECT_FALSE(match(p.info_request, "ota/d/info/response/1"));
    EXPECT_FALSE(valid_topic_level("a/b"));
    EXPECT_FALSE(valid_topic_level("#"));
    EXPECT_TRUE(valid_topic_level("node-17"));
}

TEST(MqttOtaMessages, InfoRequestBothDialects) {
    EXPECT_EQ(encode_info_request(dialect::ota, {"s31-nb", "v1.5.0"}), R"({"title":"s31-nb","version":"v1.5.0"})");
    EXPECT_EQ(encode_info_request(dialect::thingsboard, {}),
              R"({"sharedKeys":"fw_title,fw_version,fw_size,fw_checksum,fw_checksum_algorithm"})");
    auto r = parse_info_request(dialect::ota, R"({"title":"s31-nb","version":"v1.5.0"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->title, "s31-nb");
    EXPECT_EQ(r->version, "v1.5.0");
    EXPECT_FALSE(parse_info_request(dialect::ota, "s31-nb"));
    EXPECT_FALSE(parse_info_request(dialect::ota, R"({"version":"v1"})"));
    EXPECT_FALSE(parse_info_request(dialect::ota, R"({"title":5})"));
    EXPECT_TRUE(parse_info_request(dialect::thingsboard, R"({"sharedKeys":"fw_title"})"));
}

TEST(MqttOtaMessages, InfoResponseExactBytes) {
    const firmware_info fw{"s31-nb", "v1.6.0", 421320, 0x0a1b2c3d, 1024, framing::crc32};
    EXPECT_EQ(encode_info_response(dialect::ota, fw),
              R"({"title":"s31-nb","version":"v1.6.0","size":421320,"crc32":"0a1b2c3d","chunk_size":1024,"framing":"crc32"})");
    EXPECT_EQ(encode_info_response(dialect::ota, std::nullopt, "no release titled 'x'"),
              R"({"error":"no release titled 'x'"})");
    EXPECT_EQ(encode_info_response(dialect::thingsboard, fw),
              R"({"shared":{"fw_title":"s31-nb","fw_version":"v1.6.0","fw_size":421320,"fw_checksum":"0a1b2c3d","fw_checksum_algorithm":"CRC32"}})");
    EXPECT_EQ(encode_info_response(dialect::thingsboard, std::nullopt), R"({"shared":{}})");

    for (auto d : {dialect::ota, dialect::thingsboard}) {
        auto back = parse_info_response(d, encode_info_response(d, fw));
        ASSERT_TRUE(back);
        ASSERT_TRUE(*back);
        EXPECT_EQ((*back)->title, "s31-nb");
        EXPECT_EQ((*back)->size, 421320u);
        EXPECT_EQ((*back)->crc32, 0x0a1b2c3du);
        auto none = parse_info_response(d, encode_info_response(d, std::nullopt, "why"));
        ASSERT_TRUE(none);
        EXPECT_FALSE(*none);
    }
    auto raw = parse_info_response(dialect::ota, R"({"title":"t","version":"v","size":1,"crc32":"00000000","chunk_size":512,"framing":"raw"})");
    ASSERT_TRUE(raw && *raw);
    EXPECT_EQ((*raw)->chunks, framing::raw);
    EXPECT_EQ((*raw)->chunk_size, 512u);
    EXPECT_FALSE(parse_info_response(dialect::ota, R"({"title":"t","version":"v","size":1,"crc32":"xyz"})"));
    EXPECT_FALSE(parse_info_response(dialect::ota, "garbage"));
}

TEST(MqttOtaMessages, Crc32FramingIsDataThenLittleEndianCrc) {
    const bytes framed = frame_chunk(framing::crc32, as_bytes("123456789"));
    const bytes expected{'1', '2', '3', '4', '5', '6', '7', '8', '9', 0x26, 0x39, 0xF4, 0xCB};
    EXPECT_EQ(framed, expected);
    EXPECT_EQ(frame_chunk(framing::raw, as_bytes("abc")), (bytes{'a', 'b', 'c'}));
    auto data = unframe_chunk(framing::crc32, framed);
    ASSERT_TRUE(data);
    EXPECT_EQ(as_text(*data), "123456789");
    bytes corrupt = framed;
    corrupt[3] ^= 0x01;
    EXPECT_FALSE(unframe_chunk(framing::crc32, corrupt));
    EXPECT_FALSE(unframe_chunk(framing::crc32, bytes{1, 2, 3}));
    EXPECT_EQ(crc32_text(0xCBF43926u), "cbf43926");
    EXPECT_EQ(crc32_text(0x1u), "00000001");
}

TEST(MqttOtaMessages, ChunkIndexAndSizeAreStrict) {
    EXPECT_EQ(parse_chunk_index("0"), 0u);
    EXPECT_EQ(parse_chunk_index("4294967295"), 4294967295u);
    for (const char* bad : {"", "-1", "+1", "1a", "0x10", "12345678901", " 1"}) EXPECT_FALSE(parse_chunk_index(bad)) << bad;
    EXPECT_EQ(parse_chunk_size("1024"), 1024u);
    EXPECT_EQ(parse_chunk_size(" 1024\r\n"), 1024u);
    EXPECT_EQ(parse_chunk_size("65536"), 65536u);
    for (const char* bad : {"", "0", "65537", "99999999", "-5", "abc", "1.5", "1e3"}) EXPECT_FALSE(parse_chunk_size(bad)) << bad;
}

TEST(MqttOtaMessages, StateReportsAndCodes) {
    EXPECT_EQ(code_meaning(1), "firmware title mismatch");
    EXPECT_EQ(code_meaning(5), "firmware title not found");
    EXPECT_EQ(code_meaning(6), "firmware version match (no update needed)");
    EXPECT_EQ(code_meaning(7), "firmware checksum error");
    EXPECT_EQ(code_meaning(100), "OTA update successful, waiting for reboot");
    EXPECT_EQ(code_meaning(8), "");
    state_report ok{100, {}, "OTA Update OK", "s31-nb", "v1.6.0"};
    EXPECT_EQ(encode_state(dialect::ota, ok), R"({"code":100,"message":"OTA Update OK","title":"s31-nb","version":"v1.6.0"})");
    auto back = parse_state(dialect::ota, encode_state(dialect::ota, ok));
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->success());
    EXPECT_TRUE(back->final());
    auto progress = parse_state(dialect::ota, R"({"code":42})");
    ASSERT_TRUE(progress);
    EXPECT_FALSE(progress->final());
    EXPECT_FALSE(parse_state(dialect::ota, R"({"message":"no code"})"));

    auto tb = parse_state(dialect::thingsboard, R"({"current_fw_title":"t","current_fw_version":"v","fw_state":"FAILED","fw_error":"crc"})");
    ASSERT_TRUE(tb);
    EXPECT_TRUE(tb->final());
    EXPECT_FALSE(tb->success());
    EXPECT_EQ(tb->message, "crc");
    auto updated = parse_state(dialect::thingsboard, R"({"fw_state":"UPDATED"})");
    ASSERT_TRUE(updated);
    EXPECT_TRUE(updated->success());
    auto downloading = parse_state(dialect::thingsboard, R"({"fw_state":"DOWNLOADING"})");
    ASSERT_TRUE(downloading);
    EXPECT_FALSE(downloading->final());
}

TEST(MqttBrokerUrl, ParsesSchemesUsersHostsAndPorts) {
    auto a = parse_broker_url("mqtt://broker.lan:1885");
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->tls);
    EXPECT_EQ(a->host, "broker.lan");
    EXPECT_EQ(a->port, 1885);
    EXPECT_EQ(a->username, "");
    auto b = parse_broker_url("mqtts://ota@broker");
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->tls);
    EXPECT_EQ(b->username, "ota");
    EXPECT_EQ(b->port, 8883);
    auto c = parse_broker_url("mqtt://[::1]:1883/");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host, "::1");
    EXPECT_EQ(to_string(*c), "mqtt://[::1]:1883");
    EXPECT_EQ(parse_broker_url("mqtt://127.0.0.1")->port, 1883);
}

TEST(MqttBrokerUrl, RefusesPasswordsAndNonsense) {
    auto pw = parse_broker_url("mqtt://ota:secret@broker");
    ASSERT_FALSE(pw);
    EXPECT_EQ(pw.error().code, errc::usage_error);
    EXPECT_EQ(pw.error().message.find("secret"), std::string::npos);
    for (const char* bad : {"http://x", "mqtt://", "mqtt://host:0", "mqtt://host:70000", "mqtt://host:x",
                            "mqtt://host/path", "mqtt://@host", "mqtt://[::1", "mqtt://host:"})
        EXPECT_FALSE(parse_broker_url(bad)) << bad;
}
