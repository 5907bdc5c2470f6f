#include <otaflash/exit_codes.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace otaflash;

// The documented table (README "Exit status", man/otaflash.1 EXIT STATUS).
TEST(ExitCodes, MatchTheDocumentedTable) {
    EXPECT_EQ(exit_code_for(condition::internal), 1);
    EXPECT_EQ(exit_code_for(condition::usage), 2);
    EXPECT_EQ(exit_code_for(condition::config), 3);
    EXPECT_EQ(exit_code_for(condition::input), 4);
    EXPECT_EQ(exit_code_for(condition::unreachable), 5);
    EXPECT_EQ(exit_code_for(condition::auth), 6);
    EXPECT_EQ(exit_code_for(condition::transfer), 7);
    EXPECT_EQ(exit_code_for(condition::verification), 8);
    EXPECT_EQ(exit_code_for(condition::local_resource), 9);
    EXPECT_EQ(exit_code_for(condition::unconfirmed), 10);
    EXPECT_EQ(exit_code_for(condition::device_refused), 11);
    EXPECT_EQ(exit_code_for(condition::partial), 12);
    EXPECT_EQ(exit_code_for(condition::output), 13);
    EXPECT_EQ(exit_code_for(errc::interrupted_sigint), 130);
    EXPECT_EQ(exit_code_for(errc::interrupted_sigterm), 143);
}

TEST(ExitCodes, NoFailureMapsToSuccess) {
    for (int i = 0; i <= static_cast<int>(errc::interrupted_sigterm); ++i)
        EXPECT_NE(exit_code_for(static_cast<errc>(i)), 0) << code_name(static_cast<errc>(i));
}

TEST(ExitCodes, ConditionsAreDistinct) {
    std::set<int> codes;
    for (int c = 0; c <= static_cast<int>(condition::interrupted); ++c)
        EXPECT_TRUE(codes.insert(exit_code_for(static_cast<condition>(c))).second);
}
