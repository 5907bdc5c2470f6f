#include <otaflash/error.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace otaflash;

TEST(Errc, EveryCodeHasAUniqueStableName) {
    std::set<std::string> seen;
    for (int i = 0; i <= static_cast<int>(errc::interrupted_sigterm); ++i) {
        auto name = std::string(code_name(static_cast<errc>(i)));
        EXPECT_FALSE(name.empty());
        EXPECT_TRUE(seen.insert(name).second) << "duplicate code name " << name;
    }
    EXPECT_EQ(code_name(errc::auth_failed), "auth_failed");
    EXPECT_EQ(code_name(errc::flash_md5_mismatch), "flash_md5_mismatch");
}

TEST(Errc, ConditionsGroupCodes) {
    EXPECT_EQ(condition_of(errc::usage_error), condition::usage);
    EXPECT_EQ(condition_of(errc::not_an_image), condition::input);
    EXPECT_EQ(condition_of(errc::invite_no_reply), condition::unreachable);
    EXPECT_EQ(condition_of(errc::auth_failed), condition::auth);
    EXPECT_EQ(condition_of(errc::device_refused), condition::device_refused);
    EXPECT_EQ(condition_of(errc::connection_lost), condition::transfer);
    EXPECT_EQ(condition_of(errc::flash_md5_mismatch), condition::verification);
    EXPECT_EQ(condition_of(errc::bind_failed), condition::local_resource);
    EXPECT_EQ(condition_of(errc::result_unconfirmed), condition::unconfirmed);
    EXPECT_EQ(condition_of(errc::some_targets_failed), condition::partial);
    EXPECT_EQ(condition_of(errc::interrupted_sigterm), condition::interrupted);
}
