// The emulated device's UDP side, checked byte for byte from a raw-socket host: invitation parsing,
// reply ports, challenge lengths, authentication, refusal texts (espota.md §2–§4).

#include "ota_host.hpp"

#include "fixtures.hpp"

#include <otaflash/proto/espota/auth.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::test;

namespace {

const std::string any_md5 = "0123456789abcdef0123456789abcdef";
constexpr ms no_answer_wait{400};
constexpr ms answer_wait{3000};

std::vector<std::string> device_args(std::string kind, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--kind", std::move(kind), "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

process_options with_password(std::string password) {
    process_options o;
    o.env["OTAFLASH_DEVICE_PASSWORD"] = std::move(password);
    return o;
}

// The 200-datagram a host sends for `nonce`, given the device's stored hash H.
std::string auth_datagram(std::string_view challenge, std::string_view stored) {
    const std::string nonce(challenge.substr(5));
    const auto scheme = *espota::scheme_for_nonce(nonce);
    const std::string cnonce(nonce.size(), 'c');
    return "200 " + cnonce + " " + espota::auth_response(scheme, stored, nonce, cnonce) + "\n";
}

class OtaDeviceUdpEveryKind : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Kinds, OtaDeviceUdpEveryKind, ::testing::Values("esp8266", "esp32-legacy", "esp32", "rp2040"));

TEST_P(OtaDeviceUdpEveryKind, MalformedInvitationsGetNoAnswerAndLeaveTheDeviceIdle) {
    ota_device_process device(device_args(GetParam()));
    udp_peer host;
    refused_port refused;
    const std::string port = std::to_string(refused.port());
    for (const std::string& bad : {"0 " + port + " 100 " + any_md5.substr(1) + "\n",  // 31-character MD5
                                   "0 " + port + " 100 " + any_md5 + "0\n",           // 33 characters
                                   "5 " + port + " 100 " + any_md5 + "\n",            // unknown command
                                   "200 " + port + " 100 " + any_md5 + "\n",          // AUTH as invitation
                                   std::string("hello\n")}) {
        host.send_to(device.port(), bad);
        EXPECT_FALSE(host.receive(no_answer_wait)) << "answered: " << bad;
    }
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    EXPECT_EQ(host.receive(answer_wait), "OK");
}

TEST_P(OtaDeviceUdpEveryKind, InvitationMd5IsTrimmedAndAnySeparatorIsTaken) {
    ota_device_process device(device_args(GetParam()));
    udp_peer host;
    refused_port refused;
    // Spaces before numbers are skipped, one byte separates the MD5, which is trimmed (CR, tabs).
    host.send_to(device.port(), "  0   " + std::to_string(refused.port()) + "   100\t\t" + any_md5 + " \r\n");
    EXPECT_EQ(host.receive(answer_wait), "OK");
    auto e = device.wait_event("invitation");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["md5"], any_md5);
    EXPECT_EQ((*e)["size"], 100);
    EXPECT_EQ((*e)["port"], refused.port());
    EXPECT_EQ((*e)["command"], 0);
    EXPECT_EQ((*e)["from"], "127.0.0.1:" + std::to_string(host.port()));
}

TEST_P(OtaDeviceUdpEveryKind, ChallengeLengthFollowsTheScheme) {
    ota_device_process device(device_args(GetParam()), with_password("admin"));
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto reply = host.receive(answer_wait);
    ASSERT_TRUE(reply);
    const std::size_t nonce_length = GetParam() == "esp32" ? 64 : 32;
    EXPECT_EQ(reply->size(), 5 + nonce_length) << *reply;
    EXPECT_EQ(reply->substr(0, 5), "AUTH ");
    EXPECT_TRUE(espota::scheme_for_nonce(reply->substr(5)));
}

TEST_P(OtaDeviceUdpEveryKind, CorrectResponseGetsOkAndWrongOneAuthenticationFailed) {
    ota_device_process device(device_args(GetParam()), with_password("admin"));
    const std::string stored = GetParam() == "esp32" ? espota::stored_hash_sha256("admin") : espota::stored_hash_md5("admin");
    udp_peer host;
    refused_port refused;

    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto challenge = host.receive(answer_wait);
    ASSERT_TRUE(challenge);
    host.send_to(device.port(), auth_datagram(*challenge, espota::stored_hash_md5("wrong")));
    EXPECT_EQ(host.receive(answer_wait), "Authentication Failed");
    auto failed = device.wait_event("update");
    ASSERT_TRUE(failed);
    EXPECT_EQ((*failed)["ok"], false);
    EXPECT_EQ((*failed)["error"], "Authentication Failed");
    EXPECT_EQ((*failed)["stage"], "auth");

    // A new invitation brings a new nonce; the right answer is accepted.
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto second = host.receive(answer_wait);
    ASSERT_TRUE(second);
    EXPECT_NE(*second, *challenge);
    host.send_to(device.port(), auth_datagram(*second, stored));
    EXPECT_EQ(host.receive(answer_wait), "OK");
    auto auth = device.wait_event("auth");
    ASSERT_TRUE(auth);
    EXPECT_EQ((*auth)["ok"], true);
    EXPECT_EQ((*auth)["scheme"], GetParam() == "esp32" ? "pbkdf2-sha256" : "md5");
}

TEST_P(OtaDeviceUdpEveryKind, UppercaseResponseIsWrong) {
    ota_device_process device(device_args(GetParam()), with_password("admin"));
    const std::string stored = GetParam() == "esp32" ? espota::stored_hash_sha256("admin") : espota::stored_hash_md5("admin");
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto challenge = host.receive(answer_wait);
    ASSERT_TRUE(challenge);
    std::string datagram = auth_datagram(*challenge, stored);
    for (auto& c : datagram)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    host.send_to(device.port(), datagram);
    EXPECT_EQ(host.receive(answer_wait), "Authentication Failed");
}

TEST_P(OtaDeviceUdpEveryKind, MalformedAuthIsIgnoredAndTheDeviceGoesIdle) {
    ota_device_process device(device_args(GetParam()), with_password("admin"));
    udp_peer host;
    refused_port refused;
    const std::size_t wrong_length = GetParam() == "esp32" ? 32 : 64;
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    ASSERT_TRUE(host.receive(answer_wait));
    host.send_to(device.port(), "200 " + std::string(wrong_length, 'a') + " " + std::string(wrong_length, 'b') + "\n");
    EXPECT_FALSE(host.receive(no_answer_wait));
    auto ended = device.wait_event("update");
    ASSERT_TRUE(ended);
    EXPECT_EQ((*ended)["stage"], "auth");
    // Back to idle: the next datagram is read as an invitation again.
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto fresh = host.receive(answer_wait);
    ASSERT_TRUE(fresh);
    EXPECT_EQ(fresh->substr(0, 5), "AUTH ");
}

TEST_P(OtaDeviceUdpEveryKind, SilentFaultNeverAnswers) {
    ota_device_process device(device_args(GetParam(), {"--fault", "silent"}));
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    EXPECT_FALSE(host.receive(ms(800)));
}

TEST_P(OtaDeviceUdpEveryKind, RejectAuthFaultFailsTheRightAnswer) {
    ota_device_process device(device_args(GetParam(), {"--fault", "reject-auth"}), with_password("admin"));
    const std::string stored = GetParam() == "esp32" ? espota::stored_hash_sha256("admin") : espota::stored_hash_md5("admin");
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto challenge = host.receive(answer_wait);
    ASSERT_TRUE(challenge);
    host.send_to(device.port(), auth_datagram(*challenge, stored));
    EXPECT_EQ(host.receive(answer_wait), "Authentication Failed");
}

// esp8266 and pico answer at the invitation's source port, even an AUTH sent from elsewhere.
TEST(OtaDeviceUdp, Esp8266RepliesToTheInvitationSourcePort) {
    for (const std::string kind : {"esp8266", "rp2040"}) {
        ota_device_process device(device_args(kind), with_password("admin"));
        udp_peer inviter, other;
        refused_port refused;
        inviter.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
        auto challenge = inviter.receive(answer_wait);
        ASSERT_TRUE(challenge) << kind;
        other.send_to(device.port(), auth_datagram(*challenge, espota::stored_hash_md5("admin")));
        EXPECT_EQ(inviter.receive(answer_wait), "OK") << kind;
        EXPECT_FALSE(other.receive(no_answer_wait)) << kind;
    }
}

// esp32 answers each datagram at its own source.
TEST(OtaDeviceUdp, Esp32RepliesToEachDatagramsSource) {
    for (const std::string kind : {"esp32", "esp32-legacy"}) {
        ota_device_process device(device_args(kind), with_password("admin"));
        const std::string stored = kind == "esp32" ? espota::stored_hash_sha256("admin") : espota::stored_hash_md5("admin");
        udp_peer inviter, other;
        refused_port refused;
        inviter.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
        auto challenge = inviter.receive(answer_wait);
        ASSERT_TRUE(challenge) << kind;
        other.send_to(device.port(), auth_datagram(*challenge, stored));
        EXPECT_EQ(other.receive(answer_wait), "OK") << kind;
        EXPECT_FALSE(inviter.receive(no_answer_wait)) << kind;
    }
}

// A second invitation while the device waits for AUTH is read as a (bad) AUTH: back to idle, silent.
TEST(OtaDeviceUdp, InvitationWhileWaitingForAuthSendsTheDeviceIdle) {
    ota_device_process device(device_args("esp8266"), with_password("admin"));
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    ASSERT_TRUE(host.receive(answer_wait));
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    EXPECT_FALSE(host.receive(no_answer_wait));
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto again = host.receive(answer_wait);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->substr(0, 5), "AUTH ");
}

TEST(OtaDeviceUdp, StoredHashChoosesWhatTheHostMustHash) {
    // An esp32 that stores MD5(password) (setPasswordHash with an MD5, or --stored-hash md5).
    ota_device_process device(device_args("esp32", {"--stored-hash", "md5"}), with_password("admin"));
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    auto challenge = host.receive(answer_wait);
    ASSERT_TRUE(challenge);
    host.send_to(device.port(), auth_datagram(*challenge, espota::stored_hash_sha256("admin")));
    EXPECT_EQ(host.receive(answer_wait), "Authentication Failed");
    host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
    challenge = host.receive(answer_wait);
    ASSERT_TRUE(challenge);
    host.send_to(device.port(), auth_datagram(*challenge, espota::stored_hash_md5("admin")));
    EXPECT_EQ(host.receive(answer_wait), "OK");
}

TEST(OtaDeviceUdp, PasswordHashFileIsUsedVerbatim) {
    temp_dir dir;
    // Uppercase hex: as on the device, it never matches what hosts compute from the password.
    const std::string upper = "21232F297A57A5A743894A0E4A801FC3";
    const auto upper_file = dir.write("upper", upper + "\n");
    const auto lower_file = dir.write("lower", espota::stored_hash_md5("admin") + "\r\n");
    for (const auto& [file, expected] : {std::pair<std::string, std::string>{upper_file, "Authentication Failed"},
                                          std::pair<std::string, std::string>{lower_file, "OK"}}) {
        ota_device_process device(device_args("esp8266", {"--password-hash-file", file}));
        udp_peer host;
        refused_port refused;
        host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
        auto challenge = host.receive(answer_wait);
        ASSERT_TRUE(challenge);
        host.send_to(device.port(), auth_datagram(*challenge, espota::stored_hash_md5("admin")));
        EXPECT_EQ(host.receive(answer_wait), expected);
    }
}

// esp8266/pico send OK only after Update.begin() checked the space, and ERR: otherwise.
TEST(OtaDeviceUdp, Esp8266RefusesAnImageThatDoesNotFit) {
    ota_device_process device(device_args("esp8266", {"--flash-size", "8192"}));
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 8193, any_md5));  // 3 sectors > 2
    EXPECT_EQ(host.receive(answer_wait), "ERR: ERROR[4]: Not Enough Space\n");
    auto e = device.wait_event("update");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["stage"], "begin");
    EXPECT_EQ((*e)["error"], "ERR: ERROR[4]: Not Enough Space\n");
    host.send_to(device.port(), invitation(0, refused.port(), 8192, any_md5));  // fits exactly
    EXPECT_EQ(host.receive(answer_wait), "OK");
}

TEST(OtaDeviceUdp, NoSpaceFaultPerKind) {
    {
        ota_device_process device(device_args("esp8266", {"--fault", "no-space"}));
        udp_peer host;
        refused_port refused;
        host.send_to(device.port(), invitation(100, refused.port(), 100, any_md5));
        EXPECT_EQ(host.receive(answer_wait), "ERR: ERROR[4]: Not Enough Space\n");
    }
    {
        ota_device_process device(device_args("rp2040", {"--fault", "no-space"}));
        udp_peer host;
        refused_port refused;
        host.send_to(device.port(), invitation(0, refused.port(), 100, any_md5));
        EXPECT_EQ(host.receive(answer_wait), "ERR: ERROR[4]: Not Enough Space\r\n");
    }
    {
        ota_device_process device(device_args("esp8266"));
        udp_peer host;
        refused_port refused;
        host.send_to(device.port(), invitation(0, refused.port(), 0, any_md5));
        EXPECT_EQ(host.receive(answer_wait), "ERR: ERROR[5]: Bad Size Given\n");
    }
}

// esp32 says OK before Update.begin(); when begin() then fails it never connects and says nothing.
TEST(OtaDeviceUdp, Esp32SaysOkAndStaysSilentWhenTheImageDoesNotFit) {
    for (const auto& extra : {std::vector<std::string>{"--flash-size", "4096"},
                              std::vector<std::string>{"--fault", "no-space"}}) {
        ota_device_process device(device_args("esp32", extra));
        udp_peer host;
        tcp_server server;
        host.send_to(device.port(), invitation(0, server.port(), 5000, any_md5));
        EXPECT_EQ(host.receive(answer_wait), "OK");
        EXPECT_FALSE(server.accept(ms(1000)));
        auto e = device.wait_event("update");
        ASSERT_TRUE(e);
        EXPECT_EQ((*e)["stage"], "begin");
        EXPECT_EQ((*e)["ok"], false);
        EXPECT_NE((*e)["error"].get<std::string>().find("Bad Size Given"), std::string::npos);
        EXPECT_FALSE(host.receive(ms(100)));
    }
}

}  // namespace
