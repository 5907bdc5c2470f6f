#include <otaflash/release/version.hpp>

#include <gtest/gtest.h>

using namespace otaflash::release;

TEST(ReleaseVersion, SemanticVersionsCompareByPrecedence) {
    EXPECT_EQ(compare_versions("1.2.9", "1.2.10"), version_order::older);
    EXPECT_EQ(compare_versions("v2.4.0", "2.4.0"), version_order::same);
    EXPECT_EQ(compare_versions("2.4.0+build7", "2.4.0"), version_order::same);
    EXPECT_EQ(compare_versions("3.0.0", "2.4.0"), version_order::newer);
    EXPECT_EQ(compare_versions("2.4.0-rc.1", "2.4.0"), version_order::older);
    EXPECT_EQ(compare_versions("2.4.0-rc.2", "2.4.0-rc.10"), version_order::older);
    EXPECT_EQ(compare_versions("2.4.0-alpha", "2.4.0-1"), version_order::newer);
    EXPECT_EQ(compare_versions("2", "1.9.9"), version_order::newer);
    EXPECT_EQ(compare_versions("10", "9"), version_order::newer);
}

TEST(ReleaseVersion, OtherTextIsOnlyEqualOrDifferent) {
    EXPECT_EQ(compare_versions("build-2026-01-02", "build-2026-01-01"), version_order::different);
    EXPECT_EQ(compare_versions("abc", "abc"), version_order::same);
    EXPECT_EQ(compare_versions("1.2.3", "nightly"), version_order::different);
    EXPECT_FALSE(is_semantic("1.2.3.4"));
    EXPECT_FALSE(is_semantic(""));
    EXPECT_TRUE(is_semantic("1.2.3-beta.2+sha.abc"));
}

TEST(ReleaseVersion, NotOlderMeansNoUpdate) {
    EXPECT_TRUE(is_not_older("2.4.0", "2.4.0"));
    EXPECT_TRUE(is_not_older("2.5.0", "2.4.0"));  // never a downgrade
    EXPECT_FALSE(is_not_older("2.3.0", "2.4.0"));
    EXPECT_FALSE(is_not_older("old", "new"));  // string inequality: an update
}

TEST(ReleaseVersion, NewestFirstOrderIsTotal) {
    EXPECT_TRUE(newer_release("1.10.0", "1.9.0"));
    EXPECT_FALSE(newer_release("1.9.0", "1.10.0"));
    EXPECT_TRUE(newer_release("1.0.0", "zzz"));  // semantic ranks above free text
    EXPECT_TRUE(newer_release("b", "a"));
}
