#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;

TEST(Hex, EncodesLowercase) {
    const bytes data{0x00, 0x1f, 0xab, 0xff};
    EXPECT_EQ(to_hex(data), "001fabff");
    EXPECT_EQ(to_hex({}), "");
}

TEST(Hex, DecodesEitherCase) {
    auto decoded = from_hex("00AbfF");
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, (bytes{0x00, 0xab, 0xff}));
}

TEST(Hex, RejectsOddLengthAndNonHex) {
    EXPECT_FALSE(from_hex("abc"));
    EXPECT_FALSE(from_hex("zz"));
    EXPECT_FALSE(is_hex("12g4"));
    EXPECT_TRUE(is_hex("0123456789abcdefABCDEF"));
}

TEST(Hex, Formats32BitValues) {
    EXPECT_EQ(hex32(0x4010f29c), "0x4010f29c");
    EXPECT_EQ(hex32(0), "0x00000000");
    EXPECT_EQ(hex32(0xffffffff), "0xffffffff");
}

TEST(Bytes, LittleEndianRoundTrip) {
    bytes out;
    append_le16(out, 0xabcd);
    append_le32(out, 0x12345678);
    EXPECT_EQ(out, (bytes{0xcd, 0xab, 0x78, 0x56, 0x34, 0x12}));
    EXPECT_EQ(load_le16(out.data()), 0xabcd);
    EXPECT_EQ(load_le32(out.data() + 2), 0x12345678u);
}

TEST(Hex, OffsetsLookLikeHex32AndKeepHighDigits) {
    EXPECT_EQ(hex_offset(0x18), "0x00000018");
    EXPECT_EQ(hex_offset(0xFFFFFFFFu), "0xffffffff");
    EXPECT_EQ(hex_offset(std::size_t{0x1200000034}), "0x1200000034");
    EXPECT_EQ(hex_digits(0xE9, 2), "0xe9");
    EXPECT_EQ(hex_digits(0x1c, 4), "0x001c");
    EXPECT_EQ(hex_digits(0xA, 1), "0xa");
}
