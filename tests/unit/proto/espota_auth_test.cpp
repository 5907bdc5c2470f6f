// Vectors from ../shared/protocols/espota.md §4.3 and §4.4 (computed there with Python hashlib).

#include <otaflash/proto/espota/auth.hpp>

#include <gtest/gtest.h>

using namespace otaflash::espota;

namespace {
const std::string legacy_nonce = "0123456789abcdef0123456789abcdef";
const std::string long_nonce = legacy_nonce + legacy_nonce;
}  // namespace

TEST(EspotaAuth, SchemeFollowsNonceLength) {
    EXPECT_EQ(scheme_for_nonce(legacy_nonce), auth_scheme::md5_legacy);
    EXPECT_EQ(scheme_for_nonce(long_nonce), auth_scheme::pbkdf2_sha256);
    EXPECT_FALSE(scheme_for_nonce("0123"));
    EXPECT_FALSE(scheme_for_nonce(std::string(32, 'g')));
    EXPECT_FALSE(scheme_for_nonce(""));
}

TEST(EspotaAuth, StoredHashes) {
    EXPECT_EQ(stored_hash_md5("admin"), "21232f297a57a5a743894a0e4a801fc3");
    EXPECT_EQ(stored_hash_sha256("admin"), "8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918");
}

TEST(EspotaAuth, LegacyMd5Response) {
    EXPECT_EQ(auth_response(auth_scheme::md5_legacy, "21232f297a57a5a743894a0e4a801fc3", legacy_nonce,
                            "f2a62472769edb3af3185646ccc19b64"),
              "0909ee5ea6ab77fed2bb01251cfdebc3");
}

TEST(EspotaAuth, Pbkdf2ResponseWithSha256StoredPassword) {
    EXPECT_EQ(auth_response(auth_scheme::pbkdf2_sha256, stored_hash_sha256("admin"), long_nonce,
                            "7a534b382bd1f6dd524842a638dc267d54e196ceed116ad712f39a7154806032"),
              "724b12429464d56d29e87274454fe2623ae74e24afd1deb073864d1cb47d17c9");
}

TEST(EspotaAuth, Pbkdf2ResponseWithMd5StoredPassword) {
    EXPECT_EQ(auth_response(auth_scheme::pbkdf2_sha256, stored_hash_md5("admin"), long_nonce,
                            "7a534b382bd1f6dd524842a638dc267d54e196ceed116ad712f39a7154806032"),
              "cbdb733402ed9e06e5acb40869ae7caf3efaf9493fa49a5f7ec66552732b59d3");
}

TEST(EspotaAuth, UppercaseStoredHashNeverMatches) {
    // Devices compare the stored hash as text; a tool that uppercases it fails authentication.
    EXPECT_NE(auth_response(auth_scheme::md5_legacy, "21232F297A57A5A743894A0E4A801FC3", legacy_nonce,
                            "f2a62472769edb3af3185646ccc19b64"),
              "0909ee5ea6ab77fed2bb01251cfdebc3");
}
