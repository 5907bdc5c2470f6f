#include "cli/duration.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::cli;
using namespace std::chrono_literals;

TEST(Duration, Units) {
    EXPECT_EQ(*parse_duration("500ms", "--x"), 500ms);
    EXPECT_EQ(*parse_duration("10s", "--x"), 10000ms);
    EXPECT_EQ(*parse_duration("1.5s", "--x"), 1500ms);
    EXPECT_EQ(*parse_duration("2m", "--x"), 120000ms);
    EXPECT_EQ(*parse_duration("10", "--x"), 10000ms) << "bare numbers are seconds, like espota.py -t";
}

TEST(Duration, Rejects) {
    for (const char* bad : {"", "abc", "10h", "-1s", "1e10s", "nan"}) {
        auto r = parse_duration(bad, "--ack-timeout");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, errc::usage_error);
        EXPECT_NE(r.error().message.find("--ack-timeout"), std::string::npos);
    }
}
