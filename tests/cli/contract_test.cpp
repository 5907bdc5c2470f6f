// The command-line contract, tested on the built binary: exit codes, help, version, JSON on errors.

#include "subprocess.hpp"

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

using namespace otaflash::test;

namespace {
process_result otaflash_run(std::vector<std::string> args, process_options options = {}) {
    args.insert(args.begin(), bin_path("otaflash"));
    options.env.emplace("CI", "true");
    options.env.emplace("NO_COLOR", "1");
    options.timeout = std::chrono::milliseconds(20000);
    return run_process(args, options);
}
}  // namespace

TEST(Contract, VersionPrintsNameAndVersion) {
    auto r = otaflash_run({"--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("otaflash ", 0), 0u) << r.out;
}

TEST(Contract, HelpListsGroupsAndExitCodes) {
    auto r = otaflash_run({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Output"), std::string::npos);
    EXPECT_NE(r.out.find("Exit status"), std::string::npos);
}

TEST(Contract, UnknownFlagIsAUsageError) {
    auto r = otaflash_run({"--no-such-flag"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("error:"), std::string::npos);
    EXPECT_TRUE(r.out.empty());
}

TEST(Contract, MissingSubcommandIsAUsageError) {
    auto r = otaflash_run({});
    EXPECT_EQ(r.exit_code, 2);
}

TEST(Contract, UsageErrorUnderJsonIsOneJsonDocument) {
    auto r = otaflash_run({"--json", "--no-such-flag"});
    EXPECT_EQ(r.exit_code, 2);
    auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["schema"], "otaflash/v1");
    EXPECT_EQ(doc["ok"], false);
    EXPECT_EQ(doc["exit_code"], 2);
    EXPECT_EQ(doc["error"]["code"], "usage_error");
}
