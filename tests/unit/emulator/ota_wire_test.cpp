// The device's own parsing of invitation and AUTH datagrams (espota.md §2, §4), quirks included.

#include "emulator/ota/wire.hpp"

#include <gtest/gtest.h>

using namespace otaflash::emulator::ota;

namespace {

const std::string md5 = "0123456789abcdef0123456789abcdef";
const kind_traits& esp8266 = traits(device_kind::esp8266);
const kind_traits& esp32 = traits(device_kind::esp32);
const kind_traits& esp32_legacy = traits(device_kind::esp32_legacy);

invitation accepted(std::string_view datagram, const kind_traits& kind = esp8266) {
    auto r = parse_invitation(datagram, kind);
    if (auto* why = std::get_if<ignored>(&r)) ADD_FAILURE() << "ignored: " << why->reason;
    return std::get_if<invitation>(&r) ? std::get<invitation>(r) : invitation{};
}

bool is_ignored(std::string_view datagram, const kind_traits& kind = esp8266) {
    return std::holds_alternative<ignored>(parse_invitation(datagram, kind));
}

TEST(OtaWire, ReadsTheFourFieldsOfAnInvitation) {
    const auto inv = accepted("0 59950 50000 " + md5 + "\n");
    EXPECT_EQ(inv.command, 0);
    EXPECT_EQ(inv.host_port, 59950);
    EXPECT_EQ(inv.size, 50000);
    EXPECT_EQ(inv.md5, md5);
    EXPECT_EQ(accepted("100 1 2 " + md5, esp32).command, 100);
}

TEST(OtaWire, SkipsLeadingSpacesAndTrimsTheMd5) {
    const auto inv = accepted("   0    1234   77  " + md5 + " \t\r\n");
    EXPECT_EQ(inv.host_port, 1234);
    EXPECT_EQ(inv.size, 77);
    EXPECT_EQ(inv.md5, md5);
}

TEST(OtaWire, DropsAnMd5ThatIsNotThirtyTwoCharacters) {
    EXPECT_TRUE(is_ignored("0 1 2 " + md5.substr(1) + "\n"));
    EXPECT_TRUE(is_ignored("0 1 2 " + md5 + "0\n"));
    EXPECT_TRUE(is_ignored("0 1 2\n"));
    EXPECT_TRUE(is_ignored(""));
    // Not checked for hex: any 32 characters do.
    EXPECT_EQ(accepted("0 1 2 " + std::string(32, 'z')).md5, std::string(32, 'z'));
}

TEST(OtaWire, IgnoresCommandsOtherThanFlashAndFilesystem) {
    for (const char* cmd : {"1", "5", "99", "101", "200"}) EXPECT_TRUE(is_ignored(std::string(cmd) + " 1 2 " + md5)) << cmd;
}

TEST(OtaWire, TheMd5EndsAtLineFeedOrNul) {
    EXPECT_EQ(accepted("0 1 2 " + md5 + "\nrest").md5, md5);
    EXPECT_EQ(accepted("0 1 2 " + md5 + std::string("\0rest", 5)).md5, md5);
    EXPECT_TRUE(is_ignored("0 1 2 " + md5.substr(0, 16) + std::string("\0", 1) + md5.substr(16)));
}

TEST(OtaWire, OnlySpacesSeparateNumbers) {
    // A tab stops parseInt(): port and size read as 0, the tab is taken as the separator, and the
    // rest of the line becomes an over-long MD5.
    EXPECT_TRUE(is_ignored("0\t1234\t100\t" + md5 + "\n"));
}

TEST(OtaWire, NumbersBehaveLikeTheFirmwaresIntegers) {
    // The port field is a uint16_t: it wraps.
    EXPECT_EQ(accepted("0 70000 2 " + md5).host_port, 70000 - 65536);
    // atoi() on a 32-bit long saturates.
    EXPECT_EQ(accepted("0 1 999999999999999 " + md5).size, 2147483647);
    // A 16-byte digit buffer: esp8266 gives up (0) at 16 digits, esp32 keeps a byte for the NUL.
    EXPECT_EQ(accepted("0 1 0000000000000005 " + md5).size, 0);
    EXPECT_EQ(accepted("0 1 000000000000005 " + md5).size, 5);
    EXPECT_EQ(accepted("0 1 000000000000005 " + md5, esp32).size, 0);
}

TEST(OtaWire, AuthLengthsFollowTheScheme) {
    const std::string a32(32, 'a'), b32(32, 'b'), a64(64, 'a'), b64(64, 'b');
    auto legacy = parse_auth("200 " + a32 + " " + b32 + "\n", esp32_legacy);
    ASSERT_TRUE(std::holds_alternative<auth_request>(legacy));
    EXPECT_EQ(std::get<auth_request>(legacy).cnonce, a32);
    EXPECT_EQ(std::get<auth_request>(legacy).response, b32);
    EXPECT_TRUE(std::holds_alternative<auth_request>(parse_auth("200 " + a64 + " " + b64, esp32)));
    EXPECT_TRUE(std::holds_alternative<ignored>(parse_auth("200 " + a64 + " " + b64, esp8266)));
    EXPECT_TRUE(std::holds_alternative<ignored>(parse_auth("200 " + a32 + " " + b32, esp32)));
}

TEST(OtaWire, AuthMustBeCommand200AndIsNotTrimmed) {
    const std::string a32(32, 'a'), b32(32, 'b');
    auto wrong = parse_auth("0 " + a32 + " " + b32 + "\n", esp8266);
    ASSERT_TRUE(std::holds_alternative<ignored>(wrong));
    EXPECT_NE(std::get<ignored>(wrong).reason.find("got command 0"), std::string::npos);
    // CRLF leaves the CR in the response: 33 characters.
    EXPECT_TRUE(std::holds_alternative<ignored>(parse_auth("200 " + a32 + " " + b32 + "\r\n", esp8266)));
}

}  // namespace
