// The command tree as CLI11 parses it: an option that may be given several times takes one value
// per occurrence, so the positionals after it stay positionals (`push --interface ADDR FILE
// TARGET` once read FILE and TARGET as two more interfaces and then said "no device given").

#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace otaflash::cli;

namespace {

struct command_tree {
    app_context ctx{terminal_facts{}};
    CLI::App app{"otaflash", "otaflash"};
    command_tree() { define_commands(app, ctx); }

    // Parses `args` (without the program name); the parsed subcommand.
    CLI::App& parse(std::vector<std::string> args) {
        std::reverse(args.begin(), args.end());  // CLI11 takes them back to front
        app.parse(args);
        return *app.get_subcommands().front();
    }
};

std::vector<std::string> values(CLI::App& sub, const std::string& name) { return sub.get_option(name)->results(); }

}  // namespace

TEST(CommandLine, NoRepeatableOptionOfAnyCommandTakesMoreThanOneValueAtATime) {
    command_tree tree;
    std::vector<CLI::App*> apps{&tree.app};
    for (auto* sub : tree.app.get_subcommands({})) apps.push_back(sub);
    for (auto* app : apps) {
        for (const auto* opt : app->get_options()) {
            if (opt->get_positional() || opt->get_items_expected_max() <= 1) continue;
            EXPECT_FALSE(opt->get_allow_extra_args())
                << app->get_name() << " " << opt->get_name() << " would swallow the arguments after its value";
        }
    }
}

TEST(CommandLine, PushInterfaceLeavesTheImageAndTargetsAlone) {
    command_tree tree;
    auto& push = tree.parse({"push", "--interface", "127.0.0.1", "img.bin", "esp-1.local", "esp-2.local"});
    EXPECT_EQ(values(push, "--interface"), std::vector<std::string>{"127.0.0.1"});
    EXPECT_EQ(values(push, "FILE"), std::vector<std::string>{"img.bin"});
    EXPECT_EQ(values(push, "TARGET"), (std::vector<std::string>{"esp-1.local", "esp-2.local"}));
}

TEST(CommandLine, PushInterfaceIsRepeatable) {
    command_tree tree;
    auto& push = tree.parse({"push", "--interface", "127.0.0.1", "--interface", "127.0.0.2", "img.bin", "10.0.0.7"});
    EXPECT_EQ(values(push, "--interface"), (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
    EXPECT_EQ(values(push, "TARGET"), std::vector<std::string>{"10.0.0.7"});
}

TEST(CommandLine, DiscoverInterfaceTakesOneAddressPerOccurrence) {
    command_tree tree;
    auto& discover = tree.parse({"discover", "--interface", "127.0.0.1", "--interface", "127.0.0.2"});
    EXPECT_EQ(values(discover, "--interface"), (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
    command_tree again;
    EXPECT_THROW(again.parse({"discover", "--interface", "127.0.0.1", "127.0.0.2"}), CLI::ParseError)
        << "a second address without --interface is a stray argument, not a second interface";
}
