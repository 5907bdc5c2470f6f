#include <otaflash/util/base64.hpp>

#include <gtest/gtest.h>

using namespace otaflash;

namespace {
std::string text(const std::optional<bytes>& b) { return b ? std::string(b->begin(), b->end()) : "<nullopt>"; }
}  // namespace

// RFC 4648 §10 test vectors, with and without padding.
TEST(Base64, Rfc4648Vectors) {
    EXPECT_EQ(text(from_base64("")), "");
    EXPECT_EQ(text(from_base64("Zg==")), "f");
    EXPECT_EQ(text(from_base64("Zm8=")), "fo");
    EXPECT_EQ(text(from_base64("Zm9v")), "foo");
    EXPECT_EQ(text(from_base64("Zm9vYg==")), "foob");
    EXPECT_EQ(text(from_base64("Zm9vYmE=")), "fooba");
    EXPECT_EQ(text(from_base64("Zm9vYmFy")), "foobar");
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
