// The emulators' shared argv handling: what main returns after help, version, a bad option, and
// when it goes on.

#include "cli/emulator_main.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <vector>

using otaflash::cli::parse_emulator_args;

namespace {

std::optional<int> parse(std::vector<const char*> args) {
    CLI::App app{"an emulated device", "otaflash-test-device"};
    app.set_version_flag("-V,--version", "otaflash-test-device 1");
    int port = 0;
    app.add_option("--port", port, "a port");
    args.insert(args.begin(), "otaflash-test-device");
    return parse_emulator_args(app, static_cast<int>(args.size()), const_cast<char**>(args.data()), "otaflash-test-device");
}

}  // namespace

TEST(EmulatorMain, GoesOnWhenParsedAndEndsAfterHelpVersionOrAUsageError) {
    EXPECT_EQ(parse({"--port", "7"}), std::nullopt);
    testing::internal::CaptureStdout();
    EXPECT_EQ(parse({"--help"}), 0);
    EXPECT_EQ(parse({"--version"}), 0);
    EXPECT_NE(testing::internal::GetCapturedStdout().find("otaflash-test-device 1"), std::string::npos);
    testing::internal::CaptureStderr();
    EXPECT_EQ(parse({"--colour", "blue"}), 2);
    const auto err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("error: "), std::string::npos) << err;
    EXPECT_NE(err.find("hint: see otaflash-test-device --help"), std::string::npos) << err;
}
