#include <otaflash/proto/mdns/dns_sd.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::mdns;

TEST(MdnsMessage, BrowseQueryOnTheWire) {
    // id 0, flags 0, one question: _arduino._tcp.local PTR IN
    EXPECT_EQ(to_hex(encode(browse_query())),
              "000000000001000000000000"
              "085f61726475696e6f045f746370056c6f63616c00"
              "000c0001");
}

TEST(MdnsMessage, DecodesCompressedResponse) {
    // Response: PTR _arduino._tcp.local -> esp8266-abc.<ptr to offset 12>, then A for esp8266-abc.local
    // label "esp8266-abc" is 11 bytes; the A record reuses "local" at offset 26 by pointer.
    bytes wire = *from_hex(
        "000084000000000200000000"
        "085f61726475696e6f045f746370056c6f63616c00"
        "000c000100001194000e"
        "0b657370383236362d616263c00c"
        "0b657370383236362d616263c01a"  // esp8266-abc + pointer to "local" (offset 26)
        "000180010000007800047f000005");
    auto msg = decode(wire);
    ASSERT_TRUE(msg) << msg.error().message;
    EXPECT_TRUE(msg->response);
    EXPECT_TRUE(msg->authoritative);
    ASSERT_EQ(msg->answers.size(), 2u);
    EXPECT_EQ(msg->answers[0].type, rr_type::ptr);
    EXPECT_EQ(msg->answers[0].target, "esp8266-abc._arduino._tcp.local");
    EXPECT_EQ(msg->answers[1].name, "esp8266-abc.local");
    EXPECT_TRUE(msg->answers[1].cache_flush);
    EXPECT_EQ(address_text(msg->answers[1]), "127.0.0.5");
}

TEST(MdnsMessage, RejectsLoopsTruncationAndLyingCounts) {
    // A name pointer that points at itself.
    auto loop = *from_hex("000084000000000100000000c00c000100010000007800047f000001");
    EXPECT_FALSE(decode(loop));
    EXPECT_FALSE(decode(*from_hex("0000")));
    // Claims 100 answers in a 12-byte datagram.
    EXPECT_FALSE(decode(*from_hex("000084000000006400000000")));
    // Record data running past the end.
    EXPECT_FALSE(decode(*from_hex("0000840000000001000000000000010001000000780010")));
}

TEST(MdnsMessage, RoundTripsEveryRecordType) {
    message m;
    m.id = 7;
    m.response = true;
    record srv;
    srv.name = "dev._arduino._tcp.local";
    srv.type = rr_type::srv;
    srv.port = 8266;
    srv.target = "dev.local";
    record txt;
    txt.name = srv.name;
    txt.type = rr_type::txt;
    txt.txt = {"board=d1_mini", "auth_upload=yes"};
    record aaaa;
    aaaa.name = "dev.local";
    aaaa.type = rr_type::aaaa;
    aaaa.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    m.answers = {srv, txt};
    m.additionals = {aaaa};
    auto back = decode(encode(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->id, 7);
    EXPECT_EQ(back->answers[0].port, 8266);
    EXPECT_EQ(back->answers[0].target, "dev.local");
    EXPECT_EQ(back->answers[1].txt, txt.txt);
    EXPECT_EQ(address_text(back->additionals[0]), "::1");
}

TEST(MdnsAddress, Ipv6ShortForm) {
    record r;
    r.type = rr_type::aaaa;
    r.address = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0, 0, 0, 0, 0x0a, 0xbc};
    EXPECT_EQ(address_text(r), "fe80::211:0:0:abc");
}

namespace {
advertisement device(const std::string& name, std::uint8_t last_octet, const std::string& board) {
    advertisement ad;
    ad.hostname = name;
    ad.port = 8266;
    ad.ipv4 = {{127, 0, 0, last_octet}};
    ad.txt = {"tcp_check=no", "ssh_upload=no", "board=" + board, "auth_upload=no"};
    return ad;
}
}  // namespace

TEST(DnsSd, BrowseAnswerCollectRoundTrip) {
    browse_collector collector;
    auto query = decode(encode(browse_query()));
    ASSERT_TRUE(query);
    for (auto ad : {device("esp-b", 6, "nodemcuv2"), device("esp-a", 5, "d1_mini")}) {
        auto reply = answer(*query, ad);
        ASSERT_TRUE(reply);
        auto wire = decode(encode(*reply));
        ASSERT_TRUE(wire);
        collector.add(*wire);
    }
    auto found = collector.instances();
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].name, "esp-a");
    EXPECT_EQ(found[0].host, "esp-a.local");
    EXPECT_EQ(found[0].port, 8266);
    EXPECT_EQ(found[0].addresses, std::vector<std::string>{"127.0.0.5"});
    EXPECT_EQ(found[0].txt.at("board"), "d1_mini");
    EXPECT_TRUE(found[0].resolved());
    EXPECT_FALSE(collector.follow_up());
}

TEST(DnsSd, PartialAnswersAskForTheRest) {
    message reply;
    reply.response = true;
    record ptr;
    ptr.name = arduino_service;
    ptr.type = rr_type::ptr;
    ptr.target = "esp-c._arduino._tcp.local";
    reply.answers = {ptr};
    browse_collector collector;
    collector.add(reply);
    auto found = collector.instances();
    ASSERT_EQ(found.size(), 1u);
    EXPECT_FALSE(found[0].resolved());
    auto next = collector.follow_up();
    ASSERT_TRUE(next);
    ASSERT_EQ(next->questions.size(), 2u);
    EXPECT_EQ(next->questions[0].type, rr_type::srv);
    EXPECT_EQ(next->questions[1].type, rr_type::txt);

    // The device answers the follow-up: now it is resolved.
    auto more = answer(*next, device("esp-c", 7, "d1_mini"));
    ASSERT_TRUE(more);
    collector.add(*more);
    EXPECT_TRUE(collector.instances()[0].resolved());
}

TEST(DnsSd, AnswersOnlyWhatItOwns) {
    message q;
    q.questions.push_back({"_other._tcp.local", rr_type::ptr, false});
    EXPECT_FALSE(answer(q, device("esp-a", 5, "d1_mini")));
    auto host = answer(address_query("ESP-A.local"), device("esp-a", 5, "d1_mini"));
    ASSERT_TRUE(host);
    EXPECT_EQ(addresses_for(*host, "esp-a.local"), std::vector<std::string>{"127.0.0.5"});
}

TEST(DnsSd, TxtFilters) {
    auto f = parse_txt_filter("Board=d1_mini,auth_upload=no");
    ASSERT_TRUE(f);
    service_instance d;
    d.txt = {{"board", "d1_mini"}, {"auth_upload", "no"}};
    EXPECT_TRUE(matches(d, *f));
    d.txt["board"] = "nodemcuv2";
    EXPECT_FALSE(matches(d, *f));
    EXPECT_TRUE(matches(d, *parse_txt_filter("")));
    EXPECT_FALSE(parse_txt_filter("board"));
    EXPECT_FALSE(parse_txt_filter("=x"));
}

TEST(DnsSd, Ipv6AddressesAnswerAaaaAndTravelWithTheService) {
    auto ad = device("esp-v6", 9, "d1_mini");
    ad.ipv6 = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

    message only_a;
    only_a.questions.push_back({"esp-v6.local", rr_type::a, false});
    auto a = answer(only_a, ad);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->answers.size(), 1u);
    EXPECT_EQ(a->answers[0].type, rr_type::a);

    message only_aaaa;
    only_aaaa.questions.push_back({"esp-v6.local", rr_type::aaaa, false});
    auto aaaa = decode(encode(*answer(only_aaaa, ad)));
    ASSERT_TRUE(aaaa);
    ASSERT_EQ(aaaa->answers.size(), 1u);
    EXPECT_EQ(aaaa->answers[0].type, rr_type::aaaa);
    EXPECT_TRUE(aaaa->answers[0].cache_flush);
    EXPECT_EQ(address_text(aaaa->answers[0]), "::1");

    // A device with no IPv6 address stays silent when asked only for AAAA.
    EXPECT_FALSE(answer(only_aaaa, device("esp-v4", 9, "d1_mini")));

    // Browsing: both kinds of address arrive with the service, IPv4 first.
    browse_collector collector;
    collector.add(*decode(encode(*answer(browse_query(), ad))));
    auto found = collector.instances();
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].addresses, (std::vector<std::string>{"127.0.0.9", "::1"}));
    EXPECT_EQ(addresses_for(*answer(address_query("esp-v6.local"), ad), "esp-v6.local"),
              (std::vector<std::string>{"127.0.0.9", "::1"}));
}

TEST(DnsSd, OnlyTheBrowseAnswerIsShared) {
    const auto ad = device("esp-a", 5, "d1_mini");
    EXPECT_TRUE(has_shared_answer(*answer(browse_query(), ad)));
    EXPECT_FALSE(has_shared_answer(*answer(address_query("esp-a.local"), ad)));
    message srv;
    srv.questions.push_back({"esp-a._arduino._tcp.local", rr_type::srv, false});
    EXPECT_FALSE(has_shared_answer(*answer(srv, ad)));
}

TEST(DnsSd, LegacyReplyEchoesIdAndQuestionWithShortTtlsAndNoCacheFlush) {
    message query = address_query("esp-a.local");
    query.id = 0x4d2e;
    query.questions[0].unicast_response = true;
    auto reply = answer(query, device("esp-a", 5, "d1_mini"));
    ASSERT_TRUE(reply);
    ASSERT_TRUE(reply->answers[0].cache_flush);
    auto legacy = decode(encode(legacy_reply(*reply, query)));
    ASSERT_TRUE(legacy);
    EXPECT_EQ(legacy->id, 0x4d2e);
    EXPECT_TRUE(legacy->response);
    ASSERT_EQ(legacy->questions.size(), 2u);
    EXPECT_EQ(legacy->questions[0].name, "esp-a.local");
    EXPECT_FALSE(legacy->questions[0].unicast_response);
    ASSERT_EQ(legacy->answers.size(), 1u);
    EXPECT_FALSE(legacy->answers[0].cache_flush);
    EXPECT_EQ(legacy->answers[0].ttl, 10u);
    EXPECT_EQ(address_text(legacy->answers[0]), "127.0.0.5");
}
