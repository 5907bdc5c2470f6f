// The documentation keeps up with the code: every subcommand and every long option that --help
// shows is described in man/otaflash.1 and mentioned in README.md.

#include "fixtures.hpp"
#include "subprocess.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

using namespace otaflash::test;

namespace {

std::string help_of(const std::vector<std::string>& words) {
    std::vector<std::string> args{bin_path("otaflash")};
    args.insert(args.end(), words.begin(), words.end());
    args.push_back("--help");
    auto r = run_process(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
}

std::vector<std::string> subcommands() {
    std::string help = help_of({});
    std::vector<std::string> out;
    auto at = help.find("Subcommands:");
    if (at == std::string::npos) return out;
    std::regex line(R"(\n  ([a-z][a-z0-9-]*) )");
    auto section = help.substr(at, help.find("\n\n", at) - at);
    for (std::sregex_iterator it(section.begin(), section.end(), line), end; it != end; ++it) out.push_back((*it)[1]);
    return out;
}

std::set<std::string> long_options(const std::string& help) {
    std::set<std::string> out;
    std::regex option(R"((--[a-z][a-z0-9-]*))");
    for (std::sregex_iterator it(help.begin(), help.end(), option), end; it != end; ++it) out.insert((*it)[1]);
    out.erase("--help");
    return out;
}

std::string man_text() {
    auto raw = slurp(std::string{OTAFLASH_SOURCE_DIR} + "/man/otaflash.1");
    std::string text(raw.begin(), raw.end());
    return std::regex_replace(text, std::regex(R"(\\-)"), "-");
}

std::string readme_text() {
    auto raw = slurp(std::string{OTAFLASH_SOURCE_DIR} + "/README.md");
    return std::string(raw.begin(), raw.end());
}

}  // namespace

TEST(Docs, ManPageAndReadmeDescribeEveryCommandAndOption) {
    const std::string man = man_text();
    const std::string readme = readme_text();
    auto subs = subcommands();
    ASSERT_FALSE(subs.empty());
    const std::string top = help_of({});
    for (const auto& option : long_options(top.substr(0, top.find("Subcommands:"))))
        EXPECT_NE(man.find(option), std::string::npos) << "global option " << option << " missing from man/otaflash.1";
    for (const auto& sub : subs) {
        EXPECT_TRUE(man.find("\n.B " + sub + " ") != std::string::npos || man.find("\n.BI \"" + sub + " ") != std::string::npos)
            << "command " << sub << " missing from man COMMANDS";
        EXPECT_NE(readme.find("otaflash " + sub), std::string::npos) << "command " << sub << " missing from README";
        for (const auto& option : long_options(help_of({sub}))) {
            EXPECT_NE(man.find(option), std::string::npos) << sub << " " << option << " missing from man/otaflash.1";
            EXPECT_NE(readme.find(option), std::string::npos) << sub << " " << option << " missing from README.md";
        }
    }
}

TEST(Docs, ExitCodeTableIsTheSameInHelpManAndReadme) {
    const std::string man = man_text();
    const std::string readme = readme_text();
    for (const char* row : {"| 4 | invalid input", "| 5 | unreachable", "| 6 | authentication", "| 10 | unconfirmed",
                            "| 12 | several targets"})
        EXPECT_NE(readme.find(row), std::string::npos) << row;
    for (const char* row : {"4\tinvalid input", "5\tunreachable", "6\tauthentication", "10\tunconfirmed", "12\tseveral targets"})
        EXPECT_NE(man.find(row), std::string::npos) << row;
}
