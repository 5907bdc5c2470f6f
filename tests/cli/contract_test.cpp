// The command-line contract, tested on the built binary: exit codes, help, version, JSON on errors.

#include "subprocess.hpp"

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

using namespace otaflash::test;

TEST(Contract, VersionPrintsNameAndVersion) {
    auto r = run_otaflash({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("otaflash ", 0), 0u) << r.out;
}

TEST(Contract, HelpListsGroupsAndExitCodes) {
    auto r = run_otaflash({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Output"), std::string::npos);
    EXPECT_NE(r.out.find("Exit status"), std::string::npos);
}

TEST(Contract, UnknownFlagIsAUsageError) {
    auto r = run_otaflash({"--no-such-flag"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("error:"), std::string::npos);
    EXPECT_TRUE(r.out.empty());
}

TEST(Contract, MissingSubcommandIsAUsageError) {
    auto r = run_otaflash({});
    EXPECT_EQ(r.exit_code, 2);
}

TEST(Contract, UsageErrorUnderJsonIsOneJsonDocument) {
    auto r = run_otaflash({"--json", "--no-such-flag"});
    EXPECT_EQ(r.exit_code, 2);
    auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["schema"], "otaflash/v1");
    EXPECT_EQ(doc["ok"], false);
    EXPECT_EQ(doc["exit_code"], 2);
    EXPECT_EQ(doc["error"]["code"], "usage_error");
}
