// The documentation keeps up with the code: every subcommand and every long option that --help
// shows is described in man/otaflash.1 and mentioned in README.md.

#include "fixtures.hpp"
#include "subprocess.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

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
                            "| 12 | several targets", "| 13 | the result could not be written"})
        EXPECT_NE(readme.find(row), std::string::npos) << row;
    for (const char* row : {"4\tinvalid input", "5\tunreachable", "6\tauthentication", "10\tunconfirmed", "12\tseveral targets",
                            "13\tresult not written"})
        EXPECT_NE(man.find(row), std::string::npos) << row;
}

// The emulated pulling device documents every option of its --help in its man page and in its
// README section.
TEST(Docs, PullDeviceOptionsAreInItsManPageAndReadme) {
    auto help = run_process({bin_path("otaflash-pull-device"), "--help"});
    ASSERT_EQ(help.exit_code, 0) << help.err;
    auto raw = slurp(std::string{OTAFLASH_SOURCE_DIR} + "/man/otaflash-pull-device.1");
    const std::string man = std::regex_replace(std::string(raw.begin(), raw.end()), std::regex(R"(\\-)"), "-");
    const std::string readme = readme_text();
    const auto at = readme.find("## Emulated pulling device: `otaflash-pull-device`");
    ASSERT_NE(at, std::string::npos);
    const std::string section = readme.substr(at, readme.find("\n## ", at + 1) - at);
    const auto options = long_options(help.out.substr(0, help.out.find("Kinds:")));
    EXPECT_GE(options.size(), 18u);
    for (const auto& option : options) {
        EXPECT_NE(man.find(option), std::string::npos) << option << " missing from man/otaflash-pull-device.1";
        EXPECT_NE(section.find(option), std::string::npos) << option << " missing from README's otaflash-pull-device section";
    }
}

namespace {

std::vector<std::string> man_pages() {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(std::string{OTAFLASH_SOURCE_DIR} + "/man"))
        if (entry.path().extension() == ".1") out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::size_t columns(const std::string& line) {
    return static_cast<std::size_t>(std::count_if(line.begin(), line.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string cmake_lists() {
    auto raw = slurp(std::string{OTAFLASH_SOURCE_DIR} + "/CMakeLists.txt");
    return std::string(raw.begin(), raw.end());
}

}  // namespace

// Rendered by man(1) on an 80-column terminal, no line (table, example or text) is wider, and
// groff has nothing to complain about (it warns of tables wider than the page).
TEST(Docs, ManPagesFitIn80Columns) {
    ASSERT_GE(man_pages().size(), 3u) << "otaflash.1, otaflash-ota-device.1, otaflash-rom-device.1";
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/man")) << "man-db is not installed (scripts/setup --tests installs it)";
    for (const auto& page : man_pages()) {
        process_options options;
        options.env = {{"MANWIDTH", "80"}, {"MANPAGER", "cat"}, {"PAGER", "cat"}, {"LC_ALL", "C.UTF-8"},
                       {"MAN_KEEP_FORMATTING", ""}};
        auto r = run_process({"/usr/bin/man", "-l", std::string{OTAFLASH_SOURCE_DIR} + "/man/" + page}, options);
        ASSERT_EQ(r.exit_code, 0) << page << ": " << r.err;
        EXPECT_EQ(r.err, "") << page << ": groff warns";
        std::istringstream text(r.out);
        int number = 0;
        for (std::string line; std::getline(text, line);) {
            ++number;
            EXPECT_LE(columns(line), 80u) << page << " line " << number << ": " << line;
        }
    }
}

// SEE ALSO names only pages that otaflash installs, and CMake installs every page in man/.
TEST(Docs, SeeAlsoNamesInstalledPagesOnly) {
    const std::string cmake = cmake_lists();
    for (const auto& page : man_pages()) {
        EXPECT_NE(cmake.find("man/" + page), std::string::npos) << page << " is not installed by CMakeLists.txt";
        auto raw = slurp(std::string{OTAFLASH_SOURCE_DIR} + "/man/" + page);
        std::string text(raw.begin(), raw.end());
        auto at = text.find(".SH SEE ALSO");
        ASSERT_NE(at, std::string::npos) << page;
        const std::string see_also = text.substr(at, text.find("\n.SH", at + 1) - at);
        std::regex reference(R"(\.BR ([A-Za-z0-9_\\-]+) \((\d)\))");
        int named = 0;
        for (std::sregex_iterator it(see_also.begin(), see_also.end(), reference), end; it != end; ++it) {
            const std::string name = std::regex_replace((*it)[1].str(), std::regex(R"(\\-)"), "-");
            const std::string file = name + "." + (*it)[2].str();
            EXPECT_TRUE(std::filesystem::exists(std::string{OTAFLASH_SOURCE_DIR} + "/man/" + file))
                << page << " SEE ALSO names " << file << ", which otaflash does not install";
            ++named;
        }
        EXPECT_GT(named, 0) << page;
    }
}

// `cmake --install` puts the programs, every man page and the completion scripts where the
// shells and man(1) look for them.
TEST(Docs, InstallPutsManPagesAndCompletionsInTheStandardPlaces) {
    temp_dir prefix;
    process_options options;
    options.timeout = std::chrono::minutes(2);
    auto r = run_process({OTAFLASH_CMAKE, "--install", OTAFLASH_BUILD_DIR, "--prefix", prefix.path()}, options);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const auto& page : man_pages())
        EXPECT_TRUE(std::filesystem::exists(prefix.file("share/man/man1/" + page))) << page;
    for (const char* file : {"bin/otaflash", "bin/otaflash-rom-device", "bin/otaflash-ota-device", "bin/otaflash-pull-device",
                             "share/bash-completion/completions/otaflash", "share/zsh/site-functions/_otaflash",
                             "share/fish/vendor_completions.d/otaflash.fish"})
        EXPECT_TRUE(std::filesystem::exists(prefix.file(file))) << file;
    auto installed = slurp(prefix.file("share/bash-completion/completions/otaflash"));
    EXPECT_NE(std::string(installed.begin(), installed.end()).find("complete -o filenames"), std::string::npos);
}
