// TARGET on the push command line: host[:port], [v6]:port, bare v6 literals.

#include <otaflash/net/target.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::net;

TEST(Target, HostAlone) {
    auto t = parse_target("192.168.1.50");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "192.168.1.50");
    EXPECT_FALSE(t->port);
    EXPECT_EQ(parse_target("esp-kitchen.local")->host, "esp-kitchen.local");
}

TEST(Target, HostAndPort) {
    auto t = parse_target("esp.local:8266");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "esp.local");
    EXPECT_EQ(t->port, 8266);
}

TEST(Target, Ipv6) {
    auto t = parse_target("[::1]:3232");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "::1");
    EXPECT_EQ(t->port, 3232);
    t = parse_target("::1");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "::1");
    EXPECT_FALSE(t->port);
    t = parse_target("[fe80::1%wlan0]:2040");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "fe80::1%wlan0");
    EXPECT_EQ(t->port, 2040);
    t = parse_target("fe80::1%wlan0");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "fe80::1%wlan0");
    t = parse_target("[2001:db8::5]");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->host, "2001:db8::5");
    EXPECT_FALSE(t->port);
}

TEST(Target, Invalid) {
    for (const char* bad : {"", ":3232", "host:", "host:0", "host:65536", "host:12ab", "[::1", "[::1]3232",
                            "[esp.local]:1", "[]:1",
                            "127.0.0.1:8266:1", "esp.local:8266:1", "1:2:3"}) {
        auto t = parse_target(bad);
        ASSERT_FALSE(t) << bad;
        EXPECT_EQ(t.error().code, errc::target_invalid) << bad;
        EXPECT_FALSE(t.error().hint.empty());
    }
}

TEST(Target, PortNumbers) {
    EXPECT_EQ(*parse_port("1", "--port"), 1);
    EXPECT_EQ(*parse_port("65535", "--port"), 65535);
    EXPECT_FALSE(parse_port("0", "--port"));
    EXPECT_FALSE(parse_port("-1", "--port"));
    EXPECT_FALSE(parse_port(" 80", "--port"));
    EXPECT_EQ(parse_port("x", "--host-port").error().code, errc::usage_error);
}
