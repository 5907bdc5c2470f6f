// Acknowledgement streams as devices really send them (§6.2, §6.4): glued, split, with the verdict
// glued to the last count.

#include <otaflash/proto/espota/ack_stream.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::espota;

TEST(AckStream, GluedCountsAreOnlyLiveness) {
    ack_stream s;
    EXPECT_EQ(s.feed(as_bytes("14601460")), 8u);
    EXPECT_EQ(s.feed(as_bytes("14")), 2u);
    EXPECT_EQ(s.feed(as_bytes("60")), 2u);
    EXPECT_EQ(s.result(), verdict::none);
    EXPECT_EQ(s.ack_bytes(), 12u);
}

TEST(AckStream, OkGluedToTheLastCount) {
    ack_stream s;
    EXPECT_EQ(s.feed(as_bytes("392OK")), 3u);
    EXPECT_EQ(s.result(), verdict::ok);
    EXPECT_TRUE(s.text_complete());
}

TEST(AckStream, OkSplitAcrossReads) {
    ack_stream s;
    s.feed(as_bytes("1460O"));
    EXPECT_EQ(s.result(), verdict::none);
    s.feed(as_bytes("K"));
    EXPECT_EQ(s.result(), verdict::ok);
}

TEST(AckStream, Esp8266DelayedOk) {
    ack_stream s;
    s.feed(as_bytes("297632"));
    s.feed(as_bytes("OK"));
    EXPECT_EQ(s.result(), verdict::ok);
    EXPECT_EQ(s.text(), "OK");
}

TEST(AckStream, Esp32ErrorLineArrivesInPieces) {
    ack_stream s;
    s.feed(as_bytes("1460MD5 Check"));
    EXPECT_EQ(s.result(), verdict::error);
    EXPECT_FALSE(s.text_complete());
    s.feed(as_bytes(" Failed\r\n"));
    EXPECT_TRUE(s.text_complete());
    EXPECT_EQ(s.text(), "MD5 Check Failed\r\n");
}

TEST(AckStream, Esp8266ErrorKeepsItsDigits) {
    ack_stream s;
    s.feed(as_bytes("1024ERROR[7]: MD5 verification failed: expected: 0a, calculated: 1b\n"));
    EXPECT_EQ(s.result(), verdict::error);
    EXPECT_TRUE(s.text_complete());
    EXPECT_EQ(s.text().rfind("ERROR[7]", 0), 0u);
    EXPECT_EQ(s.ack_bytes(), 4u);
}

TEST(AckStream, TextAfterOkDoesNotChangeTheVerdict) {
    ack_stream s;
    s.feed(as_bytes("OK then garbage"));
    EXPECT_EQ(s.result(), verdict::ok);
}

TEST(AckStream, TextIsBounded) {
    ack_stream s;
    s.feed(as_bytes(std::string(5000, 'E')));
    EXPECT_EQ(s.text().size(), ack_stream::max_text);
    EXPECT_TRUE(s.text_complete());
}
