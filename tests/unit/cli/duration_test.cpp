#include "cli/duration.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::cli;
using namespace std::chrono_literals;

TEST(Duration, Units) {
    EXPECT_EQ(*parse_duration("500ms", "--x", 0ms), 500ms);
    EXPECT_EQ(*parse_duration("10s", "--x", 0ms), 10000ms);
    EXPECT_EQ(*parse_duration("1.5s", "--x", 0ms), 1500ms);
    EXPECT_EQ(*parse_duration("2m", "--x", 0ms), 120000ms);
    EXPECT_EQ(*parse_duration("10", "--x", 0ms), 10000ms) << "bare numbers are seconds, like espota.py -t";
}

TEST(Duration, Rejects) {
    for (const char* bad : {"", "abc", "10h", "-1s", "1e10s", "nan"}) {
        auto r = parse_duration(bad, "--ack-timeout", 0ms);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, errc::usage_error);
        EXPECT_NE(r.error().message.find("--ack-timeout"), std::string::npos);
    }
}

// A zero or sub-millisecond timeout cannot tell a live device from a dead one: it would end in a
// false diagnosis ("no answer", "stalled", firewall advice), so it is refused as a usage error.
TEST(Duration, ValuesBelowTheFloorAreRefusedNamingOptionAndFloor) {
    for (const char* tiny : {"0", "0s", "0ms", "0.0001ms", "0.4ms", "99ms", "0.05s"}) {
        auto r = parse_duration(tiny, "--invite-timeout", min_timeout);
        ASSERT_FALSE(r) << tiny;
        EXPECT_EQ(r.error().code, errc::usage_error);
        EXPECT_NE(r.error().message.find("--invite-timeout"), std::string::npos) << r.error().message;
        EXPECT_NE(r.error().message.find("100ms"), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(*parse_duration("100ms", "--invite-timeout", min_timeout), 100ms);
    EXPECT_EQ(*parse_duration("0", "--retry-delay", 0ms), 0ms) << "no wait before a retry is a real choice";
}
