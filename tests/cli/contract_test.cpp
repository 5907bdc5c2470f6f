// The command-line contract, tested on the built binary: exit codes, help, version, JSON on errors.

#include "subprocess.hpp"

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Zero and sub-millisecond timeouts are refused before anything is sent (they used to produce
// "no answer", "stalled" or firewall advice against a live device).
TEST(Contract, TimeoutsBelowTheFloorAreUsageErrorsNamingTheOption) {
    const std::vector<std::vector<std::string>> cases = {
        {"push", "--invite-timeout", "0", "img.bin", "127.0.0.1"},
        {"push", "--ack-timeout", "0", "img.bin", "127.0.0.1"},
        {"push", "--accept-timeout", "0.0001ms", "img.bin", "127.0.0.1"},
        {"push", "--auth-timeout", "0.5ms", "img.bin", "127.0.0.1"},
        {"push", "--result-timeout", "0s", "img.bin", "127.0.0.1"},
        {"push", "--mdns-timeout", "0", "img.bin", "esp.local"},
        {"discover", "--timeout", "0"},
        {"espota", "-i", "127.0.0.1", "-f", "img.bin", "-t", "0.0001"},
    };
    for (const auto& args : cases) {
        auto r = run_otaflash(args);
        const std::string& option = args[1] == "-i" ? args[6] : args[1];
        if (args.front() == "espota") {
            EXPECT_NE(r.exit_code, 0) << r.err;
            EXPECT_NE(r.err.find("-t/--timeout"), std::string::npos) << r.err;
        } else {
            EXPECT_EQ(r.exit_code, 2) << option << "\n" << r.err;
            EXPECT_NE(r.err.find(option + ":"), std::string::npos) << r.err;
            EXPECT_NE(r.err.find("100ms"), std::string::npos) << r.err;
        }
    }
}
