// The UDP state machine: who gets which reply, when OK is sent, what events come out.

#include "emulator/ota/listener.hpp"

#include <otaflash/proto/espota/auth.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::emulator::ota;

namespace {

const std::string md5 = "0123456789abcdef0123456789abcdef";
const std::string nonce32(32, '1');
const std::string nonce64(64, '2');
const peer inviter{"127.0.0.1", 40000};
const peer elsewhere{"127.0.0.1", 40001};

listener make(device_kind kind, std::optional<std::string> password = std::nullopt, bool reject = false) {
    listener_config c;
    c.kind = &traits(kind);
    if (password) c.password = stored_password(*password, traits(kind).default_stored_hash);
    c.reject_auth = reject;
    c.make_nonce = [](espota::auth_scheme s) { return s == espota::auth_scheme::md5_legacy ? nonce32 : nonce64; };
    return listener(std::move(c));
}

std::string invite() { return "0 3000 100 " + md5 + "\n"; }

std::string answer(device_kind kind, const std::string& password, const std::string& nonce) {
    const auto& t = traits(kind);
    const std::string stored = t.default_stored_hash == stored_hash::md5 ? espota::stored_hash_md5(password)
                                                                         : espota::stored_hash_sha256(password);
    const std::string cnonce(nonce.size(), 'c');
    return "200 " + cnonce + " " + espota::auth_response(t.scheme, stored, nonce, cnonce) + "\n";
}

TEST(OtaListener, Esp8266DefersOkToTheLoopAndEsp32SendsItAtOnce) {
    auto e8266 = make(device_kind::esp8266);
    auto step = e8266.on_datagram(invite(), inviter);
    EXPECT_FALSE(step.reply);
    EXPECT_TRUE(e8266.update_pending());
    auto accepted = e8266.take_update();
    EXPECT_FALSE(accepted.ok_sent);
    EXPECT_EQ(accepted.request.host_port, 3000);
    EXPECT_EQ(accepted.connect_address, "127.0.0.1");
    ASSERT_EQ(step.events.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<invitation_event>(step.events[0]));

    auto e32 = make(device_kind::esp32);
    step = e32.on_datagram(invite(), inviter);
    ASSERT_TRUE(step.reply);
    EXPECT_EQ(step.reply->payload, "OK");
    EXPECT_EQ(step.reply->to.port, inviter.port);
    EXPECT_TRUE(e32.take_update().ok_sent);
}

TEST(OtaListener, ChallengeRepliesGoWhereTheKindSendsThem) {
    for (auto kind : {device_kind::esp8266, device_kind::rp2040, device_kind::esp32_legacy, device_kind::esp32}) {
        const bool to_inviter = traits(kind).reply_to_invitation_port;
        const std::string& nonce = traits(kind).scheme == espota::auth_scheme::md5_legacy ? nonce32 : nonce64;
        auto l = make(kind, "admin");
        auto step = l.on_datagram(invite(), inviter);
        ASSERT_TRUE(step.reply);
        EXPECT_EQ(step.reply->payload, "AUTH " + nonce);

        // A wrong answer from another socket.
        step = l.on_datagram("200 " + std::string(nonce.size(), 'c') + " " + std::string(nonce.size(), 'd'), elsewhere);
        ASSERT_TRUE(step.reply);
        EXPECT_EQ(step.reply->payload, "Authentication Failed");
        EXPECT_EQ(step.reply->to.port, to_inviter ? inviter.port : elsewhere.port);
        ASSERT_EQ(step.events.size(), 2u);
        EXPECT_FALSE(std::get<auth_event>(step.events[0]).ok);
        EXPECT_EQ(std::get<update_event>(step.events[1]).error, "Authentication Failed");

        // The right answer, again from another socket.
        l.on_datagram(invite(), inviter);
        step = l.on_datagram(answer(kind, "admin", nonce), elsewhere);
        EXPECT_TRUE(std::get<auth_event>(step.events.at(0)).ok);
        EXPECT_TRUE(l.update_pending());
        auto accepted = l.take_update();
        EXPECT_EQ(accepted.reply_to.port, inviter.port);
        if (to_inviter) {
            EXPECT_FALSE(step.reply);  // OK follows Update.begin() in the loop
        } else {
            ASSERT_TRUE(step.reply);
            EXPECT_EQ(step.reply->payload, "OK");
            EXPECT_EQ(step.reply->to.port, elsewhere.port);
        }
    }
}

TEST(OtaListener, MalformedAuthEndsTheAttemptSilently) {
    auto l = make(device_kind::esp8266, "admin");
    l.on_datagram(invite(), inviter);
    auto step = l.on_datagram("200 short short\n", inviter);
    EXPECT_FALSE(step.reply);
    ASSERT_EQ(step.events.size(), 1u);
    EXPECT_EQ(std::get<update_event>(step.events[0]).stage, "auth");
    EXPECT_FALSE(l.update_pending());
    EXPECT_TRUE(l.on_datagram(invite(), inviter).reply);  // idle again: a fresh challenge
}

TEST(OtaListener, RejectAuthFailsEvenTheRightAnswer) {
    auto l = make(device_kind::esp32, "admin", true);
    l.on_datagram(invite(), inviter);
    auto step = l.on_datagram(answer(device_kind::esp32, "admin", nonce64), inviter);
    ASSERT_TRUE(step.reply);
    EXPECT_EQ(step.reply->payload, "Authentication Failed");
}

TEST(OtaListener, DropsDatagramsWhileAnUpdateIsPendingOrRunning) {
    auto l = make(device_kind::esp8266);
    l.on_datagram(invite(), inviter);
    EXPECT_FALSE(l.on_datagram(invite(), elsewhere).reply);
    l.take_update();
    EXPECT_FALSE(l.on_datagram(invite(), elsewhere).reply);
    l.update_done();
    l.on_datagram(invite(), elsewhere);
    EXPECT_TRUE(l.update_pending());
}

TEST(OtaListener, EmptyDatagramsDifferByKind) {
    // esp8266 parses an empty datagram (command 0, then a bad MD5); waiting for AUTH, it goes idle.
    auto e8266 = make(device_kind::esp8266, "admin");
    e8266.on_datagram(invite(), inviter);
    EXPECT_EQ(e8266.on_datagram("", inviter).events.size(), 1u);
    // esp32's parsePacket() never reports it: still waiting for AUTH.
    auto e32 = make(device_kind::esp32, "admin");
    e32.on_datagram(invite(), inviter);
    EXPECT_TRUE(e32.on_datagram("", inviter).events.empty());
    EXPECT_TRUE(e32.on_datagram(answer(device_kind::esp32, "admin", nonce64), inviter).reply);
}

TEST(OtaListener, StoredPasswordAndNonces) {
    EXPECT_EQ(stored_password("admin", stored_hash::md5).reveal(), "21232f297a57a5a743894a0e4a801fc3");
    EXPECT_EQ(stored_password("admin", stored_hash::sha256).reveal(),
              "8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918");
    // hex(MD5("12345")), as the firmware makes from micros().
    EXPECT_EQ(legacy_nonce(12345), "827ccb0eea8a706c4c34a16891f84e7b");
    EXPECT_EQ(pbkdf2_nonce(as_bytes("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
