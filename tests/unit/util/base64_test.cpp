#include <otaflash/util/base64.hpp>

#include <gtest/gtest.h>

#include <string_view>
#include <utility>

using namespace otaflash;

namespace {
std::string text(const std::optional<bytes>& b) { return b ? std::string(b->begin(), b->end()) : "<nullopt>"; }

constexpr std::pair<std::string_view, std::string_view> rfc4648[] = {
    {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},        {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};
}  // namespace

// RFC 4648 §10 test vectors, with and without padding.
TEST(Base64, Rfc4648Vectors) {
    for (const auto& [plain, encoded] : rfc4648) EXPECT_EQ(text(from_base64(encoded)), plain) << encoded;
    EXPECT_EQ(text(from_base64("Zm9vYg")), "foob");
}

TEST(Base64, FoldedLinesAndBinary) {
    EXPECT_EQ(text(from_base64("Zm9v\nYmFy\r\n")), "foobar");
    auto b = from_base64("/+8A");
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, (bytes{0xFF, 0xEF, 0x00}));
}

TEST(Base64, RejectsWhatIsNotBase64) {
    EXPECT_FALSE(from_base64("Zm9v!"));
    EXPECT_FALSE(from_base64("Zm9=v"));  // data after padding
    EXPECT_FALSE(from_base64("Z"));      // a lone sextet
    EXPECT_FALSE(from_base64("Zm9vY"));
}

// RFC 4648 §10 vectors the other way, binary bytes, and the round trip.
TEST(Base64, Encodes) {
    for (const auto& [plain, encoded] : rfc4648) EXPECT_EQ(to_base64(as_bytes(plain)), encoded) << plain;
    EXPECT_EQ(to_base64(as_bytes("ota:s3cret")), "b3RhOnMzY3JldA==");  // what serve_http_test sends by hand
    const bytes binary{0xFF, 0xEF, 0x00, 0xFB};
    EXPECT_EQ(to_base64(binary), "/+8A+w==");
    EXPECT_EQ(from_base64(to_base64(binary)), binary);
}
