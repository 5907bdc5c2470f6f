#include <otaflash/crypto/digest.hpp>
#include <otaflash/crypto/pbkdf2.hpp>
#include <otaflash/crypto/secret.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;

// RFC 1321 appendix A.5 test suite.
TEST(Md5, Rfc1321Vectors) {
    EXPECT_EQ(to_hex(md5(as_bytes(""))), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(to_hex(md5(as_bytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(to_hex(md5(as_bytes("12345678901234567890123456789012345678901234567890123456789012345678901234567890"))),
              "57edf4a22be3c955ac49da2e2107b67a");
}

// FIPS 180-2 appendix B.1 / B.2.
TEST(Sha256, FipsVectors) {
    EXPECT_EQ(to_hex(sha256(as_bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(to_hex(sha256(as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Hasher, IncrementalEqualsOneShotAndResets) {
    hasher h{digest_kind::md5};
    h.update(as_bytes("12345678901234567890"));
    h.update(as_bytes(""));
    h.update(as_bytes("123456789012345678901234567890123456789012345678901234567890"));
    EXPECT_EQ(to_hex(h.finish()), "57edf4a22be3c955ac49da2e2107b67a");
    h.update(as_bytes("abc"));
    EXPECT_EQ(to_hex(h.finish()), "900150983cd24fb0d6963f7d28e17f72");

    hasher s{digest_kind::sha256};
    s.update(as_bytes("ab"));
    s.update(as_bytes("c"));
    EXPECT_EQ(to_hex(s.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 7914 section 11, PBKDF2-HMAC-SHA256 vectors.
TEST(Pbkdf2, Rfc7914Vectors) {
    EXPECT_EQ(to_hex(pbkdf2_hmac_sha256("passwd", "salt", 1, 64)),
              "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
              "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    EXPECT_EQ(to_hex(pbkdf2_hmac_sha256("Password", "NaCl", 80000, 64)),
              "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
              "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

// The espota PBKDF2 scheme vector from ../shared/protocols/espota.md §4.4 (SHA-256-stored password).
TEST(Pbkdf2, EspotaSchemeVector) {
    const std::string nonce = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const std::string cnonce = "7a534b382bd1f6dd524842a638dc267d54e196ceed116ad712f39a7154806032";
    const std::string stored = to_hex(sha256(as_bytes("admin")));
    EXPECT_EQ(stored, "8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918");
    EXPECT_EQ(to_hex(pbkdf2_hmac_sha256(stored, nonce + ":" + cnonce, 10000, 32)),
              "c7d878b9650ad4c7d3a5c893731b9bc85e8cc925d8f9590ed6e08156dc9109aa");
}

TEST(Secret, MoveLeavesSourceEmpty) {
    secret a{"hunter2"};
    secret b{std::move(a)};
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the wipe is the point
    EXPECT_EQ(b.reveal(), "hunter2");
}
