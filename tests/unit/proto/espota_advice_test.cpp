// Device words become failure classes and advice (user-needs.md §1, §8).

#include <otaflash/proto/espota/advice.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::espota;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST(EspotaAdvice, SpaceRefusalPointsAtThePartitionLayout) {
    auto f = refusal_failure("ERROR[4]: Not Enough Space");
    EXPECT_EQ(f.code, errc::device_refused);
    EXPECT_TRUE(contains(f.message, "\"ERROR[4]: Not Enough Space\"")) << f.message;
    EXPECT_TRUE(contains(f.hint, "partition")) << f.hint;
}

TEST(EspotaAdvice, BootstrapRefusalSaysReset) {
    auto f = refusal_failure("ERROR[11]: Invalid bootstrapping state, reset ESP8266 before updating");
    EXPECT_EQ(f.code, errc::device_refused);
    EXPECT_TRUE(contains(f.hint, "reset the device once")) << f.hint;
}

TEST(EspotaAdvice, PicoWithoutFilesystem) {
    auto f = refusal_failure("nofile");
    EXPECT_TRUE(contains(f.message, "filesystem")) << f.message;
}

TEST(EspotaAdvice, UnknownRefusalStillQuotesTheDevice) {
    auto f = refusal_failure("ERROR[99]: Something New");
    EXPECT_EQ(f.code, errc::device_refused);
    EXPECT_TRUE(contains(f.message, "Something New"));
    EXPECT_FALSE(f.hint.empty());
}

TEST(EspotaAdvice, Md5FailuresAreVerificationFailures) {
    EXPECT_EQ(final_text_failure("MD5 Check Failed\r\n").code, errc::device_verify_failed);
    EXPECT_EQ(final_text_failure("ERROR[7]: MD5 verification failed: expected: aa, calculated: bb\n").code,
              errc::device_verify_failed);
}

TEST(EspotaAdvice, MagicByteMeansWrongFile) {
    auto f = final_text_failure("Wrong Magic Byte\r\n");
    EXPECT_EQ(f.code, errc::device_verify_failed);
    EXPECT_TRUE(contains(f.hint, "merged factory image")) << f.hint;
}

TEST(EspotaAdvice, OtherFinalTextsAreTransferFailures) {
    EXPECT_EQ(final_text_failure("Flash Write Failed\r\n").code, errc::device_error);
    EXPECT_EQ(final_text_failure("Aborted\r\n").code, errc::device_error);
    EXPECT_EQ(final_text_failure("something odd").code, errc::device_error);
}

TEST(EspotaAdvice, FirewallRulesNameDeviceAndPort) {
    const auto rules = firewall_rules("192.168.1.50", 43117);
    EXPECT_TRUE(contains(rules, "sudo ufw allow proto tcp from 192.168.1.50 to any port 43117"));
    EXPECT_TRUE(contains(rules, "iptables -I INPUT -p tcp -s 192.168.1.50 --dport 43117 -j ACCEPT"));
    EXPECT_TRUE(contains(rules, "nft add rule inet filter input ip saddr 192.168.1.50 tcp dport 43117 accept"));
    EXPECT_TRUE(contains(firewall_rules("fe80::1", 1), "ip6 saddr fe80::1"));
}

TEST(EspotaAdvice, NoConnectBackNamesTheAddressAndSuggestsAFixedPort) {
    auto f = no_connect_back_failure("192.168.1.50", "192.168.1.20", 43117, false);
    EXPECT_EQ(f.code, errc::accept_timeout);
    EXPECT_TRUE(contains(f.message, "192.168.1.20:43117")) << f.message;
    EXPECT_TRUE(contains(f.message, "firewall"));
    EXPECT_TRUE(contains(f.hint, "--host-port"));
    EXPECT_FALSE(contains(no_connect_back_failure("::1", "::1", 5, true).hint, "--host-port"));
    EXPECT_TRUE(contains(no_connect_back_failure("::1", "::1", 5, true).message, "[::1]:5"));
}
