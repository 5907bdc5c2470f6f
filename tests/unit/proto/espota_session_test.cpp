// The espota session as scripted event sequences with time as a parameter, plus an
// "inject a failure at step N" loop over the happy paths.

#include <otaflash/proto/espota/session.hpp>

#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

#include <functional>

using namespace otaflash;
using namespace otaflash::espota;
using namespace std::chrono_literals;

namespace {

const std::string image_md5 = "1dc4f7d738cdc99d10edbc5e58434fa0";
const std::string nonce32 = "0123456789abcdef0123456789abcdef";
const std::string nonce64 = nonce32 + nonce32;

session_config base_config(std::uint64_t size = 4000, unsigned window = 1) {
    session_config c;
    c.cmd = command::flash;
    c.image_size = size;
    c.image_md5 = image_md5;
    c.host_port = 40000;
    c.device_ports = {8266};
    c.device_address = "127.0.0.1";
    c.listen_address = "127.0.0.1";
    c.window = window;
    c.entropy = bytes(32, 0x5a);
    return c;
}

// Feeds events, remembers the effects and the deadline, and keeps the clock.
struct harness {
    explicit harness(session_config c) : s(std::move(c)) {}

    session s;
    time_point now{};
    std::optional<time_point> deadline;
    std::vector<effect> effects;  // since the last take()

    void apply(step st) {
        deadline = st.deadline;
        for (auto& e : st.effects) effects.push_back(std::move(e));
    }
    void start() { apply(s.start(now)); }
    void datagram(const std::string& text, std::uint16_t port = 8266) { apply(s.on_datagram(port, as_bytes(text), now)); }
    void accepted() { apply(s.on_accepted(now)); }
    void sent(std::size_t n) { apply(s.on_sent(n, now)); }
    void received(const std::string& text) { apply(s.on_received(as_bytes(text), now)); }
    void closed(bool reset) { apply(s.on_closed(reset, now)); }
    void advance(std::chrono::milliseconds d) { now += d; }
    // Jumps to the deadline and fires it.
    void expire() {
        ASSERT_TRUE(deadline.has_value()) << "no deadline armed";
        now = *deadline;
        apply(s.on_timeout(now));
    }

    template <class T>
    std::vector<T> take() {
        std::vector<T> out;
        std::vector<effect> rest;
        for (auto& e : effects) {
            if (auto* p = std::get_if<T>(&e)) out.push_back(*p);
            else rest.push_back(std::move(e));
        }
        effects = std::move(rest);
        return out;
    }
    // Completes every write the session asks for, answering each with an ack when asked to.
    void stream_all(bool ack_each) {
        for (int guard = 0; guard < 10000 && !s.finished(); ++guard) {
            auto writes = take<write_data>();
            if (writes.empty()) return;
            for (const auto& w : writes) {
                advance(1ms);
                sent(w.length);
                if (ack_each) received(std::to_string(w.length));
            }
        }
    }
    errc error_code() const { return s.report().error ? s.report().error->code : errc::internal_error; }
};

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : text) {
        if (c == sep) {
            parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    parts.push_back(cur);
    return parts;
}

// Checks an AUTH datagram the way a device does: recompute the response from the cnonce it carries.
void expect_valid_answer(const send_datagram& d, auth_scheme scheme, const std::string& stored, const std::string& nonce) {
    ASSERT_TRUE(d.sensitive);
    ASSERT_EQ(d.payload.back(), '\n');
    auto parts = split(d.payload.substr(0, d.payload.size() - 1), ' ');
    ASSERT_EQ(parts.size(), 3u) << d.payload;
    EXPECT_EQ(parts[0], "200");
    EXPECT_EQ(parts[1].size(), nonce.size());
    EXPECT_TRUE(is_hex(parts[1]));
    EXPECT_EQ(parts[2], auth_response(scheme, stored, nonce, parts[1]));
}

std::string cnonce_of(const send_datagram& d) { return split(d.payload, ' ').at(1); }

}  // namespace

TEST(EspotaSession, HappyPathStopAndWait) {
    harness h{base_config(4000, 1)};
    h.start();
    auto datagrams = h.take<send_datagram>();
    ASSERT_EQ(datagrams.size(), 1u);
    EXPECT_EQ(datagrams[0].port, 8266);
    EXPECT_EQ(datagrams[0].payload, "0 40000 4000 " + image_md5 + "\n");
    EXPECT_FALSE(datagrams[0].sensitive);
    ASSERT_TRUE(h.deadline);
    EXPECT_EQ(*h.deadline - h.now, 2000ms);

    h.advance(3ms);
    h.datagram("OK");
    EXPECT_EQ(*h.deadline - h.now, 10000ms) << "accept timeout";
    h.advance(100ms);
    h.accepted();
    auto writes = h.take<write_data>();
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].offset, 0u);
    EXPECT_EQ(writes[0].length, 1460u);

    h.sent(1460);
    EXPECT_TRUE(h.take<write_data>().empty()) << "stop-and-wait waits for the ack";
    h.received("14");
    writes = h.take<write_data>();
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].offset, 1460u);
    h.received("60");  // the rest of the same count: no second write
    EXPECT_TRUE(h.take<write_data>().empty());
    h.sent(1460);
    h.received("1460");
    writes = h.take<write_data>();
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].offset, 2920u);
    EXPECT_EQ(writes[0].length, 1080u);
    h.sent(1080);
    EXPECT_EQ(*h.deadline - h.now, 60000ms) << "result timeout";
    EXPECT_FALSE(h.s.finished());
    h.received("1080");
    h.advance(1000ms);
    h.received("OK");
    ASSERT_TRUE(h.s.finished());
    EXPECT_FALSE(h.s.report().error);
    auto closes = h.take<close_connection>();
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_FALSE(closes[0].abortive);
    EXPECT_EQ(h.take<session_finished>().size(), 1u);
    EXPECT_FALSE(h.deadline);

    const auto& r = h.s.report();
    EXPECT_EQ(r.bytes_sent, 4000u);
    EXPECT_EQ(r.device_result, "OK");
    EXPECT_EQ(r.device_port, 8266);
    EXPECT_FALSE(r.scheme);
    ASSERT_EQ(r.phases.size(), 4u);
    EXPECT_EQ(r.phases[0].which, phase::invite);
    EXPECT_EQ(r.phases[1].which, phase::connect);
    EXPECT_EQ(r.phases[2].which, phase::upload);
    EXPECT_EQ(r.phases[3].which, phase::confirm);
    EXPECT_EQ(r.phases[3].end - r.phases[3].begin, 1000ms);
}

TEST(EspotaSession, AckArrivingBeforeTheWriteCompletionStillReleasesTheNextChunk) {
    harness h{base_config(3000, 1)};
    h.start();
    h.datagram("OK");
    h.accepted();
    ASSERT_EQ(h.take<write_data>().size(), 1u);
    h.received("1460");  // the device answered before the driver reported the write done
    EXPECT_TRUE(h.take<write_data>().empty());
    h.sent(1460);
    EXPECT_EQ(h.take<write_data>().size(), 1u);
}

TEST(EspotaSession, WindowKeepsWritingWithoutAcks) {
    harness h{base_config(100000, 16)};
    h.start();
    h.datagram("OK");
    h.accepted();
    std::uint64_t offset = 0;
    for (int i = 0; i < 100 && offset < 100000; ++i) {
        auto writes = h.take<write_data>();
        ASSERT_EQ(writes.size(), 1u) << "one write outstanding at a time";
        EXPECT_EQ(writes[0].offset, offset);
        EXPECT_LE(writes[0].length, h.s.write_size());
        offset += writes[0].length;
        h.advance(1ms);
        h.sent(writes[0].length);
    }
    EXPECT_EQ(offset, 100000u);
    EXPECT_EQ(h.s.report().bytes_sent, 100000u);
    h.received("100000OK");
    EXPECT_TRUE(h.s.finished());
    EXPECT_FALSE(h.s.report().error);
}

TEST(EspotaSession, FinalWriteCompletionReportedAfterTheVerdict) {
    harness h{base_config(1000, 16)};
    h.start();
    h.datagram("OK");
    h.accepted();
    ASSERT_EQ(h.take<write_data>().size(), 1u);
    h.received("1000OK");
    EXPECT_TRUE(h.s.finished());
    EXPECT_FALSE(h.s.report().error);
}

TEST(EspotaSession, OkBeforeTheImageWasSentIsAViolation) {
    harness h{base_config(100000, 16)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.sent(h.take<write_data>().at(0).length);
    h.received("OK");
    ASSERT_TRUE(h.s.finished());
    EXPECT_EQ(h.error_code(), errc::protocol_violation);
    auto closes = h.take<close_connection>();
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_TRUE(closes[0].abortive);
}

TEST(EspotaSession, InvitationBackoffThenNoReply) {
    harness h{base_config()};
    h.start();
    std::vector<std::chrono::milliseconds> waits;
    while (!h.s.finished()) {
        ASSERT_EQ(h.take<send_datagram>().size(), 1u);
        waits.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*h.deadline - h.now));
        h.expire();
    }
    const std::vector<std::chrono::milliseconds> expected{2000ms, 4000ms, 8000ms, 10000ms, 10000ms};
    EXPECT_EQ(waits, expected);
    EXPECT_EQ(h.error_code(), errc::invite_no_reply);
    EXPECT_EQ(h.s.report().invitations, 5u);
    EXPECT_TRUE(h.take<close_connection>().empty()) << "nothing to close before a connection";
}

TEST(EspotaSession, ProbesDefaultPortsAndPinsTheOneThatAnswers) {
    auto c = base_config();
    c.device_ports = {3232, 8266, 2040};
    harness h{c};
    h.start();
    auto datagrams = h.take<send_datagram>();
    ASSERT_EQ(datagrams.size(), 3u);
    EXPECT_EQ(datagrams[0].port, 3232);
    EXPECT_EQ(datagrams[1].port, 8266);
    EXPECT_EQ(datagrams[2].port, 2040);
    h.datagram("AUTH " + nonce32, 2040);
    h.datagram("OK", 3232);  // from a port we no longer talk to: ignored
    EXPECT_EQ(h.s.report().device_port, 2040);
    EXPECT_EQ(h.error_code(), errc::password_unavailable);
}

TEST(EspotaSession, DatagramsFromOtherPortsAreIgnored) {
    harness h{base_config()};
    h.start();
    h.datagram("ERR: nonsense", 9999);
    EXPECT_FALSE(h.s.finished());
    h.datagram("OK");
    EXPECT_FALSE(h.s.finished());
}

TEST(EspotaSession, LegacyAuthWarnsAboutMd5) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    harness h{c};
    h.start();
    h.take<send_datagram>();
    h.datagram("AUTH " + nonce32);
    auto answers = h.take<send_datagram>();
    ASSERT_EQ(answers.size(), 1u);
    expect_valid_answer(answers[0], auth_scheme::md5_legacy, "21232f297a57a5a743894a0e4a801fc3", nonce32);
    EXPECT_EQ(*h.deadline - h.now, 10000ms) << "auth timeout";
    h.datagram("OK");
    EXPECT_EQ(h.s.report().scheme, auth_scheme::md5_legacy);
    EXPECT_EQ(h.s.report().stored_hash, "md5");
    ASSERT_EQ(h.s.report().warnings.size(), 1u);
    EXPECT_NE(h.s.report().warnings[0].find("legacy MD5"), std::string::npos);
    h.accepted();
    h.stream_all(true);
    h.received("OK");
    EXPECT_FALSE(h.s.report().error);
    EXPECT_EQ(h.s.report().phases.at(1).which, phase::auth);
}

TEST(EspotaSession, Pbkdf2Sha256Accepted) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    harness h{c};
    h.start();
    h.take<send_datagram>();
    h.datagram("AUTH " + nonce64);
    auto answers = h.take<send_datagram>();
    ASSERT_EQ(answers.size(), 1u);
    expect_valid_answer(answers[0], auth_scheme::pbkdf2_sha256, stored_hash_sha256("admin"), nonce64);
    h.datagram("OK");
    EXPECT_EQ(h.s.report().stored_hash, "sha256");
    EXPECT_TRUE(h.s.report().warnings.empty());
}

TEST(EspotaSession, Pbkdf2FallsBackToMd5StoredHashWithAFreshInvitation) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    harness h{c};
    h.start();
    h.take<send_datagram>();
    h.datagram("AUTH " + nonce64);
    auto first = h.take<send_datagram>().at(0);
    expect_valid_answer(first, auth_scheme::pbkdf2_sha256, stored_hash_sha256("admin"), nonce64);
    h.datagram("Authentication Failed");
    auto reinvite = h.take<send_datagram>();
    ASSERT_EQ(reinvite.size(), 1u);
    EXPECT_EQ(reinvite[0].payload, "0 40000 4000 " + image_md5 + "\n");
    const std::string second_nonce = std::string(64, 'e');
    h.datagram("AUTH " + second_nonce);
    auto second = h.take<send_datagram>().at(0);
    expect_valid_answer(second, auth_scheme::pbkdf2_sha256, stored_hash_md5("admin"), second_nonce);
    EXPECT_NE(cnonce_of(first), cnonce_of(second)) << "every attempt gets a fresh cnonce";
    h.datagram("OK");
    EXPECT_EQ(h.s.report().stored_hash, "md5");
    EXPECT_EQ(h.s.report().auth_attempts, 2u);
    EXPECT_EQ(h.s.report().invitations, 2u);
    ASSERT_EQ(h.s.report().warnings.size(), 1u);
    EXPECT_NE(h.s.report().warnings[0].find("MD5 hash"), std::string::npos);
}

TEST(EspotaSession, Pbkdf2SilenceAfterSha256AlsoFallsBack) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    harness h{c};
    h.start();
    h.take<send_datagram>();
    h.datagram("AUTH " + nonce64);
    h.take<send_datagram>();
    h.expire();
    auto reinvite = h.take<send_datagram>();
    ASSERT_EQ(reinvite.size(), 1u);
    EXPECT_FALSE(reinvite[0].sensitive);
    EXPECT_FALSE(h.s.finished());
}

TEST(EspotaSession, Md5OnlySkipsTheSha256Attempt) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    c.creds.md5_only = true;
    harness h{c};
    h.start();
    h.take<send_datagram>();
    h.datagram("AUTH " + nonce64);
    expect_valid_answer(h.take<send_datagram>().at(0), auth_scheme::pbkdf2_sha256, stored_hash_md5("admin"), nonce64);
    h.datagram("Authentication Failed");
    EXPECT_EQ(h.error_code(), errc::auth_failed);
}

TEST(EspotaSession, WrongPasswordOnPbkdf2DeviceTriesBothHashesThenFails) {
    auto c = base_config();
    c.creds.password = secret{"wrong"};
    harness h{c};
    h.start();
    h.datagram("AUTH " + nonce64);
    h.datagram("Authentication Failed");
    EXPECT_FALSE(h.s.finished());
    h.datagram("AUTH " + nonce64);
    h.datagram("Authentication Failed");
    ASSERT_TRUE(h.s.finished());
    EXPECT_EQ(h.error_code(), errc::auth_failed);
    EXPECT_NE(h.s.report().error->message.find("sha256 and md5"), std::string::npos) << h.s.report().error->message;
}

TEST(EspotaSession, WrongPasswordOnLegacyDeviceFailsAtOnce) {
    auto c = base_config();
    c.creds.password = secret{"wrong"};
    harness h{c};
    h.start();
    h.datagram("AUTH " + nonce32);
    h.datagram("Authentication Failed");
    EXPECT_EQ(h.error_code(), errc::auth_failed);
    EXPECT_EQ(h.s.report().invitations, 1u);
}

TEST(EspotaSession, GivenStoredHashIsUsedVerbatim) {
    auto c = base_config();
    c.creds.stored_hash = secret{stored_hash_sha256("admin")};
    harness h{c};
    h.start();
    h.take<send_datagram>();
    h.datagram("AUTH " + nonce64);
    expect_valid_answer(h.take<send_datagram>().at(0), auth_scheme::pbkdf2_sha256, stored_hash_sha256("admin"), nonce64);
    h.datagram("Authentication Failed");
    EXPECT_EQ(h.error_code(), errc::auth_failed) << "a given hash is the only candidate";
}

TEST(EspotaSession, Sha256HashCannotAnswerALegacyChallenge) {
    auto c = base_config();
    c.creds.stored_hash = secret{stored_hash_sha256("admin")};
    harness h{c};
    h.start();
    h.datagram("AUTH " + nonce32);
    EXPECT_EQ(h.error_code(), errc::auth_failed);
    EXPECT_NE(h.s.report().error->message.find("legacy MD5"), std::string::npos);
}

TEST(EspotaSession, UnknownNonceLength) {
    harness h{base_config()};
    h.start();
    h.datagram("AUTH 0123");
    EXPECT_EQ(h.error_code(), errc::auth_scheme_unknown);
}

TEST(EspotaSession, NoPasswordAndNoPromptIsPasswordUnavailable) {
    harness h{base_config()};
    h.start();
    h.datagram("AUTH " + nonce32);
    EXPECT_EQ(h.error_code(), errc::password_unavailable);
    const auto& hint = h.s.report().error->hint;
    EXPECT_NE(hint.find("OTAFLASH_PASSWORD"), std::string::npos);
    EXPECT_NE(hint.find("--password-file"), std::string::npos);
    EXPECT_NE(hint.find("--password-stdin"), std::string::npos);
}

TEST(EspotaSession, PromptsOnlyWhenTheDeviceAsks) {
    auto c = base_config();
    c.creds.can_prompt = true;
    harness h{c};
    h.start();
    EXPECT_TRUE(h.take<ask_password>().empty());
    h.datagram("AUTH " + nonce32);
    EXPECT_EQ(h.take<ask_password>().size(), 1u);
    EXPECT_FALSE(h.deadline) << "a person is typing: no deadline";
    h.take<send_datagram>();
    h.apply(h.s.on_password(secret{"admin"}, h.now));
    expect_valid_answer(h.take<send_datagram>().at(0), auth_scheme::md5_legacy, stored_hash_md5("admin"), nonce32);
}

TEST(EspotaSession, NothingTypedAtThePrompt) {
    auto c = base_config();
    c.creds.can_prompt = true;
    harness h{c};
    h.start();
    h.datagram("AUTH " + nonce32);
    h.apply(h.s.on_password(std::nullopt, h.now));
    EXPECT_EQ(h.error_code(), errc::password_unavailable);
}

TEST(EspotaSession, NewChallengeWhileAuthenticatingIsAnswered) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    harness h{c};
    h.start();
    h.expire();  // a second invitation: the device may answer both
    h.take<send_datagram>();
    h.datagram("AUTH " + nonce32);
    h.take<send_datagram>();
    const std::string other(32, 'c');
    h.datagram("AUTH " + other);
    expect_valid_answer(h.take<send_datagram>().at(0), auth_scheme::md5_legacy, stored_hash_md5("admin"), other);
    h.datagram("OK");
    EXPECT_FALSE(h.s.finished());
}

TEST(EspotaSession, SilenceAfterRepeatedInvitationsReinvitesOnce) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    harness h{c};
    h.start();
    h.expire();
    h.datagram("AUTH " + nonce32);
    h.take<send_datagram>();
    h.expire();  // the device went idle and ignored our answer
    auto reinvite = h.take<send_datagram>();
    ASSERT_EQ(reinvite.size(), 1u);
    EXPECT_FALSE(reinvite[0].sensitive);
    h.datagram("AUTH " + nonce32);
    h.take<send_datagram>();
    h.expire();
    EXPECT_EQ(h.error_code(), errc::auth_no_reply);
}

TEST(EspotaSession, DeviceRefusesBeforeData) {
    harness h{base_config()};
    h.start();
    h.datagram("ERR: ERROR[4]: Not Enough Space\n");
    EXPECT_EQ(h.error_code(), errc::device_refused);
    EXPECT_EQ(h.s.report().device_reply, "ERR: ERROR[4]: Not Enough Space");
}

TEST(EspotaSession, DeviceRefusesAfterPassword) {
    auto c = base_config();
    c.creds.password = secret{"admin"};
    harness h{c};
    h.start();
    h.datagram("AUTH " + nonce32);
    h.datagram("ERR: ERROR[4]: Not Enough Space\n");
    EXPECT_EQ(h.error_code(), errc::device_refused);
}

TEST(EspotaSession, SomethingElseAnswering) {
    harness h{base_config()};
    h.start();
    h.datagram("hello");
    EXPECT_EQ(h.error_code(), errc::protocol_violation);
}

TEST(EspotaSession, OkWithoutConnectBackExplainsTheFirewall) {
    harness h{base_config()};
    h.start();
    h.datagram("OK");
    h.expire();
    EXPECT_EQ(h.error_code(), errc::accept_timeout);
    EXPECT_NE(h.s.report().error->hint.find("ufw allow proto tcp from 127.0.0.1 to any port 40000"), std::string::npos);
}

TEST(EspotaSession, ConnectionBeforeOkCountsAsAccepted) {
    harness h{base_config()};
    h.start();
    h.accepted();
    EXPECT_EQ(h.take<write_data>().size(), 1u);
}

TEST(EspotaSession, ErrorTextInPiecesEndsTheTransfer) {
    harness h{base_config(1460, 1)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.stream_all(false);
    h.received("1460MD5 Check");
    EXPECT_FALSE(h.s.finished());
    h.received(" Failed\r\n");
    ASSERT_TRUE(h.s.finished());
    EXPECT_EQ(h.error_code(), errc::device_verify_failed);
    EXPECT_EQ(h.s.report().device_result, "MD5 Check Failed");
    auto closes = h.take<close_connection>();
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_TRUE(closes[0].abortive);
}

TEST(EspotaSession, ErrorTextWithoutLineEndEndsAfterAGrace) {
    harness h{base_config(1460, 1)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.stream_all(false);
    h.received("Flash Write Failed");
    EXPECT_EQ(*h.deadline - h.now, 500ms);
    h.expire();
    EXPECT_EQ(h.error_code(), errc::device_error);
    EXPECT_EQ(h.s.report().device_result, "Flash Write Failed");
}

TEST(EspotaSession, ErrorTextThenCloseEndsAtOnce) {
    harness h{base_config(1460, 1)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.stream_all(false);
    h.received("ERROR[7]: MD5 verif");
    h.closed(false);
    EXPECT_EQ(h.error_code(), errc::device_verify_failed);
}

TEST(EspotaSession, StallWhileStreaming) {
    harness h{base_config(100000, 16)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.sent(h.take<write_data>().at(0).length);
    h.take<write_data>();  // this write never completes: the device stopped reading
    EXPECT_EQ(*h.deadline - h.now, 10000ms);
    h.expire();
    EXPECT_EQ(h.error_code(), errc::ack_timeout);
}

TEST(EspotaSession, ResetMidStream) {
    harness h{base_config(100000, 16)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.sent(h.take<write_data>().at(0).length);
    h.closed(true);
    EXPECT_EQ(h.error_code(), errc::connection_lost);
}

TEST(EspotaSession, NoVerdictAfterTheLastByte) {
    harness h{base_config(1460, 1)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.stream_all(true);
    h.expire();
    EXPECT_EQ(h.error_code(), errc::result_unconfirmed);
}

TEST(EspotaSession, CleanCloseWithoutOkIsUnconfirmedAndResetIsLost) {
    for (bool reset : {false, true}) {
        harness h{base_config(1460, 1)};
        h.start();
        h.datagram("OK");
        h.accepted();
        h.stream_all(true);
        h.closed(reset);
        EXPECT_EQ(h.error_code(), reset ? errc::connection_lost : errc::result_unconfirmed);
    }
}

TEST(EspotaSession, CancelClosesAbortively) {
    harness h{base_config(100000, 16)};
    h.start();
    h.datagram("OK");
    h.accepted();
    h.apply(h.s.cancel(make_failure(errc::interrupted_sigint, "interrupted"), h.now));
    EXPECT_EQ(h.error_code(), errc::interrupted_sigint);
    auto closes = h.take<close_connection>();
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_TRUE(closes[0].abortive);
}

TEST(EspotaSession, EventsAfterTheEndAreIgnored) {
    harness h{base_config()};
    h.start();
    h.datagram("ERR: nofile");
    ASSERT_TRUE(h.s.finished());
    h.take<session_finished>();
    h.datagram("OK");
    h.accepted();
    h.received("OK");
    EXPECT_EQ(h.error_code(), errc::device_refused);
    EXPECT_TRUE(h.take<session_finished>().empty());
}

// --- inject a failure at step N -----------------------------------------------------------------

namespace {

using event = std::function<void(harness&)>;

struct script {
    std::string name;
    session_config config;
    std::vector<event> events;
};

std::vector<event> transfer_events(std::size_t size, bool ack_each) {
    std::vector<event> out;
    out.push_back([](harness& h) { h.accepted(); });
    std::size_t done = 0;
    while (done < size) {
        const std::size_t n = std::min<std::size_t>(1460, size - done);
        done += n;
        out.push_back([n](harness& h) {
            h.advance(1ms);
            h.sent(n);
        });
        if (ack_each) out.push_back([n](harness& h) { h.received(std::to_string(n)); });
    }
    out.push_back([](harness& h) { h.received("OK"); });
    return out;
}

std::vector<script> happy_scripts() {
    std::vector<script> scripts;
    {
        script s{"plain", base_config(4000, 1), {}};
        s.events.push_back([](harness& h) { h.start(); });
        s.events.push_back([](harness& h) { h.datagram("OK"); });
        for (auto& e : transfer_events(4000, true)) s.events.push_back(e);
        scripts.push_back(std::move(s));
    }
    {
        auto c = base_config(4000, 1);
        c.creds.password = secret{"admin"};
        script s{"pbkdf2-fallback", c, {}};
        s.events.push_back([](harness& h) { h.start(); });
        s.events.push_back([](harness& h) { h.datagram("AUTH " + nonce64); });
        s.events.push_back([](harness& h) { h.datagram("Authentication Failed"); });
        s.events.push_back([](harness& h) { h.datagram("AUTH " + nonce64); });
        s.events.push_back([](harness& h) { h.datagram("OK"); });
        for (auto& e : transfer_events(4000, true)) s.events.push_back(e);
        scripts.push_back(std::move(s));
    }
    return scripts;
}

enum class fault { silence, reset, clean_close, cancel, garbage };

}  // namespace

TEST(EspotaSessionFaults, EveryStepFailsHonestlyAndEnds) {
    for (const auto& sc : happy_scripts()) {
        {
            harness h{sc.config};
            for (const auto& e : sc.events) e(h);
            ASSERT_TRUE(h.s.finished()) << sc.name;
            ASSERT_FALSE(h.s.report().error) << sc.name << ": the script itself must succeed";
        }
        for (std::size_t n = 1; n < sc.events.size(); ++n) {
            for (fault f : {fault::silence, fault::reset, fault::clean_close, fault::cancel, fault::garbage}) {
                SCOPED_TRACE(sc.name + " fault " + std::to_string(static_cast<int>(f)) + " at step " + std::to_string(n));
                harness h{sc.config};
                for (std::size_t i = 0; i < n; ++i) sc.events[i](h);
                ASSERT_FALSE(h.s.finished());
                switch (f) {
                case fault::silence:
                    break;  // nothing more arrives: only the deadlines can end it
                case fault::reset: h.closed(true); break;
                case fault::clean_close: h.closed(false); break;
                case fault::cancel:
                    h.apply(h.s.cancel(make_failure(errc::interrupted_sigterm, "interrupted", "run it again"), h.now));
                    break;
                case fault::garbage:
                    h.received("\x01garbage\n");
                    h.datagram("\x02noise");
                    break;
                }
                // From here on nothing but time passes: the session must end on its own.
                for (int guard = 0; guard < 50 && !h.s.finished(); ++guard) {
                    if (!h.deadline) break;
                    h.expire();
                    // A write asked for is never completed: the device went silent.
                }
                if (!h.s.finished() && !h.deadline) {
                    // Only a pending password prompt may wait without a deadline; none here.
                    FAIL() << "session waits forever";
                }
                ASSERT_TRUE(h.s.finished());
                ASSERT_TRUE(h.s.report().error.has_value()) << "a fault must never end in success";
                EXPECT_NE(h.s.report().error->code, errc::internal_error);
                EXPECT_FALSE(h.s.report().error->message.empty());
                EXPECT_FALSE(h.s.report().error->hint.empty()) << h.s.report().error->message;
                EXPECT_LE(h.now - time_point{}, std::chrono::minutes(5)) << "ends within the configured timeouts";
                for (const auto& c : h.take<close_connection>()) EXPECT_TRUE(c.abortive);
                EXPECT_EQ(h.take<session_finished>().size(), 1u);
            }
        }
    }
}
