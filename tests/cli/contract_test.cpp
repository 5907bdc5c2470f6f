// The command-line contract, tested on the built binary: exit codes, help, version, JSON on errors.

#include "fixtures.hpp"
#include "subprocess.hpp"

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace otaflash;
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

TEST(Contract, MistypedCommandSuggestsTheClosest) {
    auto r = run_otaflash({"verfy", "app.bin"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown command 'verfy'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("did you mean 'otaflash verify'"), std::string::npos) << r.err;
    auto far = run_otaflash({"--progress", "none", "frobnicate"});
    EXPECT_EQ(far.exit_code, 2);
    EXPECT_NE(far.err.find("unknown command 'frobnicate'"), std::string::npos) << far.err;
    EXPECT_NE(far.err.find("serial"), std::string::npos) << "lists the commands: " << far.err;
}

// A bad value in an environment variable names the variable and is a configuration error (3),
// whether the parser or otaflash's own checks find it; the same value typed as an option stays a
// usage error (2), and an option on the command line wins over the variable.
TEST(Contract, BadEnvironmentValuesNameTheVariableAndExit3) {
    struct bad_env {
        std::string variable, value;
        std::vector<std::string> args;
    };
    const std::vector<bad_env> cases = {
        {"OTAFLASH_BAUD", "abc", {"serial", "-p", "/dev/null", "app.bin"}},
        {"OTAFLASH_BAUD", "5", {"serial", "-p", "/dev/null", "app.bin"}},
        {"OTAFLASH_CHIP", "esp33", {"verify", "app.bin"}},
        {"OTAFLASH_PROGRESS", "sideways", {"verify", "app.bin"}},
        {"OTAFLASH_NON_INTERACTIVE", "maybe", {"verify", "app.bin"}},
        {"OTAFLASH_HOST_PORT", "http", {"push", "app.bin", "127.0.0.1"}},
    };
    for (const auto& c : cases) {
        process_options env;
        env.env[c.variable] = c.value;
        auto r = run_otaflash(c.args, env);
        EXPECT_EQ(r.exit_code, 3) << c.variable << "=" << c.value << ": " << r.err;
        EXPECT_NE(r.err.find(c.variable), std::string::npos) << r.err;
        auto doc = nlohmann::json::parse(run_otaflash([&] {
            auto a = c.args;
            a.insert(a.begin(), "--json");
            return a;
        }(), env).out);
        EXPECT_EQ(doc["error"]["code"], "config_invalid") << c.variable;
        EXPECT_EQ(doc["exit_code"], 3);
    }
    auto typed = run_otaflash({"serial", "-p", "/dev/null", "--baud", "abc", "app.bin"});
    EXPECT_EQ(typed.exit_code, 2) << typed.err;
    EXPECT_EQ(typed.err.find("OTAFLASH_BAUD"), std::string::npos) << typed.err;
    process_options env;
    env.env["OTAFLASH_CHIP"] = "esp33";
    auto overridden = run_otaflash({"verify", "--chip", "esp32", "/nonexistent/app.bin"}, env);
    EXPECT_EQ(overridden.exit_code, 4) << "--chip wins over OTAFLASH_CHIP: " << overridden.err;
}

// Exit codes as README, man page and --help document them.
TEST(Contract, MalformedTargetsAreInvalidInput) {
    for (const char* target : {"127.0.0.1:8266:1", "host:0", "[::1"}) {
        auto r = run_otaflash({"push", "--invite-timeout", "100ms", fixture_image("esp8266_deepsleep.bin"), target});
        EXPECT_EQ(r.exit_code, 4) << target << ": " << r.err;
    }
    auto r = run_otaflash({"push", "--invite-timeout", "abc", "app.bin", "127.0.0.1"});
    EXPECT_EQ(r.exit_code, 2) << "a bad option value is a usage error: " << r.err;
    auto help = run_otaflash({"push", "--help"});
    EXPECT_NE(help.out.find("2 bad option or option value"), std::string::npos) << help.out;
    EXPECT_EQ(help.out.find("4 bad image or option value"), std::string::npos) << help.out;
}

// README: a truncated file is invalid input (4), whichever chip it is for; 8 is for a check that
// fails on a whole, well-formed image.
TEST(Contract, TruncatedImagesExit4ForEveryChip) {
    temp_dir dir;
    for (const char* name : {"esp8266_deepsleep.bin", "helloworld-esp32.bin", "bootloader_esp8266.bin", "bootloader_esp32.bin"}) {
        bytes data = read_fixture_image(name);
        for (std::size_t keep : {data.size() / 2, data.size() - 1}) {
            const std::string path = dir.write(std::string("cut-") + std::to_string(keep) + "-" + name,
                                               byte_view(data.data(), keep));
            auto r = run_otaflash({"verify", path});
            EXPECT_EQ(r.exit_code, 4) << name << " cut to " << keep << " bytes: " << r.out << r.err;
        }
    }
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

// A result that never reached stdout is no success: a CI job writing `> result.json` on a full
// disk must not see exit 0. 13 (output_failed), whatever the command found; that goes to stderr.
TEST(Contract, AResultThatCannotBeWrittenExits13) {
    const std::string good = fixture_image("helloworld-esp32.bin");
    const std::string edited = fixture_image("helloworld-esp32_edit.bin");
    process_options full;
    full.stdout_path = "/dev/full";
    for (const auto& args : std::vector<std::vector<std::string>>{{"--json", "verify", good}, {"verify", good}}) {
        auto r = run_otaflash(args, full);
        EXPECT_EQ(r.exit_code, 13) << r.err;
        EXPECT_NE(r.err.find("the result could not be written to standard output: No space left on device"),
                  std::string::npos) << r.err;
        EXPECT_NE(r.err.find("the command itself succeeded (exit 0)"), std::string::npos) << r.err;
    }
    auto failed = run_otaflash({"--json", "verify", edited}, full);
    EXPECT_EQ(failed.exit_code, 13) << failed.err;
    EXPECT_NE(failed.err.find("the command itself failed with exit 8 (image_check_failed)"), std::string::npos)
        << failed.err;
    auto help = run_otaflash({"--help"}, full);
    EXPECT_EQ(help.exit_code, 13) << help.err;
    EXPECT_EQ(run_otaflash({"--json", "verify", good}).exit_code, 0);
}

// In a CI log of both streams (2>&1 | cat) each file's result comes before the error summary.
TEST(Contract, ResultLinesComeBeforeTheErrorSummaryInOneStream) {
    const std::string good = fixture_image("helloworld-esp32.bin");
    const std::string edited = fixture_image("helloworld-esp32_edit.bin");
    process_options merged;
    merged.stderr_to_stdout = true;
    auto r = run_otaflash({"verify", good, edited}, merged);
    EXPECT_EQ(r.exit_code, 8);
    const auto ok_line = r.out.find(good + ": ok");
    const auto failed_line = r.out.find(edited + ": FAILED");
    const auto summary = r.out.find("error: ");
    ASSERT_NE(ok_line, std::string::npos) << r.out;
    ASSERT_NE(failed_line, std::string::npos) << r.out;
    ASSERT_NE(summary, std::string::npos) << r.out;
    EXPECT_LT(ok_line, summary) << r.out;
    EXPECT_LT(failed_line, summary) << r.out;
}
