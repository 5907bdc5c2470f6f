#include <otaflash/util/crc32.hpp>
#include <otaflash/util/flat_json.hpp>

#include <gtest/gtest.h>

using namespace otaflash;

TEST(Crc32, IeeeCheckValue) {
    EXPECT_EQ(crc32(as_bytes("123456789")), 0xCBF43926u);
    EXPECT_EQ(crc32({}), 0u);
    EXPECT_EQ(crc32_update(crc32(as_bytes("1234")), as_bytes("56789")), 0xCBF43926u);
}

TEST(FlatJson, ParsesStringsNumbersAndLiterals) {
    auto o = flat_json::parse(R"( {"title":"s31-nb", "code": 7, "x": -1.5e2, "t": true, "n": null, "e":"a\"\\\/\u00e9\ud83d\ude00"} )");
    ASSERT_TRUE(o);
    EXPECT_EQ(*flat_json::string_at(*o, "title"), "s31-nb");
    EXPECT_EQ(flat_json::integer_at(*o, "code"), 7);
    EXPECT_EQ(flat_json::integer_at(*o, "x"), -150);
    EXPECT_EQ(std::get<double>(o->at("x")), -150.0);
    EXPECT_EQ(std::get<bool>(o->at("t")), true);
    EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(o->at("n")));
    EXPECT_EQ(*flat_json::string_at(*o, "e"), "a\"\\/\xc3\xa9\xf0\x9f\x98\x80");
    EXPECT_FALSE(flat_json::string_at(*o, "code"));
    EXPECT_TRUE(flat_json::parse("{}"));
}

TEST(FlatJson, RefusesWhatIsNotOneFlatObject) {
    for (const char* bad : {"", "[]", "\"x\"", "{", "{\"a\":1", "{\"a\":1}x", "{\"a\":{}}", "{\"a\":[1]}", "{a:1}",
                            "{\"a\":01}", "{\"a\":+1}", "{\"a\":1.}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
                            "{\"a\":\"tab\there\"}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":tru}", "\xf9\x01"})
        EXPECT_FALSE(flat_json::parse(bad)) << bad;
}

TEST(FlatJson, IntegerAcceptsIntegralNumbersOnly) {
    auto o = flat_json::parse(R"({"a":100,"b":7.0,"c":7.5,"d":"7","e":1e300})");
    ASSERT_TRUE(o);
    EXPECT_EQ(flat_json::integer_at(*o, "a"), 100);
    EXPECT_EQ(flat_json::integer_at(*o, "b"), 7);
    EXPECT_FALSE(flat_json::integer_at(*o, "c"));
    EXPECT_FALSE(flat_json::integer_at(*o, "d"));
    EXPECT_FALSE(flat_json::integer_at(*o, "e"));
    EXPECT_FALSE(flat_json::integer_at(*o, "missing"));
}

TEST(FlatJson, WritesAndQuotes) {
    EXPECT_EQ(flat_json::quote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
    EXPECT_EQ(flat_json::write({{"k", flat_json::quote("v")}, {"n", "5"}}), R"({"k":"v","n":5})");
    EXPECT_EQ(flat_json::write({}), "{}");
}
