// The espota datagrams, byte for byte (../shared/protocols/espota.md §2–§4).

#include <otaflash/proto/espota/messages.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::espota;

TEST(EspotaMessages, InvitationMatchesTheWireCapture) {
    // Seen from espota.py on 127.0.0.1 (§2).
    EXPECT_EQ(invitation(command::flash, 59950, 50000, "1dc4f7d738cdc99d10edbc5e58434fa0"),
              "0 59950 50000 1dc4f7d738cdc99d10edbc5e58434fa0\n");
}

TEST(EspotaMessages, InvitationForFilesystemLowercasesTheDigest) {
    EXPECT_EQ(invitation(command::filesystem, 10000, 1, "1DC4F7D738CDC99D10EDBC5E58434FA0"),
              "100 10000 1 1dc4f7d738cdc99d10edbc5e58434fa0\n");
}

TEST(EspotaMessages, AuthRequest) {
    EXPECT_EQ(auth_request("f2a62472769edb3af3185646ccc19b64", "0909ee5ea6ab77fed2bb01251cfdebc3"),
              "200 f2a62472769edb3af3185646ccc19b64 0909ee5ea6ab77fed2bb01251cfdebc3\n");
}

TEST(EspotaMessages, ClassifiesOk) {
    EXPECT_EQ(classify_reply(as_bytes("OK")).kind, reply_kind::ok);
    EXPECT_EQ(classify_reply(as_bytes("OK\n")).kind, reply_kind::ok);
}

TEST(EspotaMessages, ClassifiesBothChallengeLengths) {
    const std::string nonce32 = "0123456789abcdef0123456789abcdef";
    auto r = classify_reply(as_bytes("AUTH " + nonce32));
    EXPECT_EQ(r.kind, reply_kind::auth);
    EXPECT_EQ(r.nonce, nonce32);
    const std::string datagram = "AUTH " + nonce32 + nonce32;
    EXPECT_EQ(datagram.size(), 69u);
    r = classify_reply(as_bytes(datagram));
    EXPECT_EQ(r.kind, reply_kind::auth);
    EXPECT_EQ(r.nonce, nonce32 + nonce32);
}

TEST(EspotaMessages, ClassifiesDeviceRefusals) {
    auto r = classify_reply(as_bytes("ERR: ERROR[4]: Not Enough Space\n"));
    EXPECT_EQ(r.kind, reply_kind::error);
    EXPECT_EQ(r.text, "ERROR[4]: Not Enough Space");
    r = classify_reply(as_bytes("ERR: nofile"));
    EXPECT_EQ(r.kind, reply_kind::error);
    EXPECT_EQ(r.text, "nofile");
}

TEST(EspotaMessages, ClassifiesAuthenticationFailedAndOthers) {
    EXPECT_EQ(classify_reply(as_bytes("Authentication Failed")).kind, reply_kind::auth_failed);
    auto r = classify_reply(as_bytes("HTTP/1.1 400 Bad Request"));
    EXPECT_EQ(r.kind, reply_kind::other);
    EXPECT_EQ(r.text, "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(classify_reply(as_bytes("")).kind, reply_kind::other);
}

TEST(EspotaMessages, PrintableEscapesControlBytesAndLimitsLength) {
    EXPECT_EQ(printable("MD5 Check Failed\r\n"), "MD5 Check Failed");
    EXPECT_EQ(printable(std::string_view{"a\x01" "b\nc", 5}), "a\\x01b\\nc");
    EXPECT_EQ(printable(std::string(300, 'x'), 10), std::string(10, 'x') + "...");
}
