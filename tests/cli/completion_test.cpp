// `otaflash completion bash|zsh|fish`: each script is valid for its shell, completes commands,
// options and option values in the real shell, and covers every command --help lists (the
// scripts are generated from the command tree, so new commands need no work here).

#include "fixtures.hpp"
#include "subprocess.hpp"

#include <gtest/gtest.h>

#include <regex>

#include <unistd.h>

using namespace otaflash::test;

namespace {

std::string script_for(const std::string& shell) {
    auto r = run_otaflash({"completion", shell});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
}

std::vector<std::string> listed_commands() {
    std::string help = run_otaflash({"--help"}).out;
    std::vector<std::string> out;
    auto at = help.find("Subcommands:");
    std::regex line(R"(\n  ([a-z][a-z0-9-]*) )");
    auto section = help.substr(at, help.find("\n\n", at) - at);
    for (std::sregex_iterator it(section.begin(), section.end(), line), end; it != end; ++it) out.push_back((*it)[1]);
    return out;
}

// What bash's completion offers for the words of `line` (the last one being completed).
std::string bash_complete(const std::string& script_path, const std::string& line) {
    const std::string program = "source " + script_path + "\n" +
                                "COMP_WORDS=(" + line + ")\n" +
                                "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n" +
                                "_otaflash\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
    auto r = run_process({"/bin/bash", "--norc", "--noprofile", "-c", program});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

std::string find_shell(const std::string& name) {
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/"})
        if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return std::string(dir) + name;
    return {};
}

// The script for `shell` written to `dir` as `name`, once `interpreter` found its syntax valid.
std::string checked_script(const temp_dir& dir, const std::string& shell, const std::string& interpreter,
                           const std::string& syntax_flag, const std::string& name) {
    EXPECT_FALSE(interpreter.empty()) << shell << " is not installed (scripts/setup --tests installs it)";
    const std::string path = dir.write(name, script_for(shell));
    auto syntax = run_process({interpreter, syntax_flag, path});
    EXPECT_EQ(syntax.exit_code, 0) << shell << ": " << syntax.err;
    return path;
}

}  // namespace

TEST(Completion, EveryShellScriptNamesEveryCommand) {
    const auto commands = listed_commands();
    ASSERT_GE(commands.size(), 6u);
    for (const char* shell : {"bash", "zsh", "fish"}) {
        const std::string script = script_for(shell);
        for (const auto& c : commands) EXPECT_NE(script.find(c), std::string::npos) << shell << " lacks " << c;
    }
    auto r = run_otaflash({"completion", "tcsh"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(Completion, BashCompletesCommandsOptionsAndValues) {
    temp_dir dir;
    const std::string path = checked_script(dir, "bash", "/bin/bash", "-n", "otaflash.bash");

    EXPECT_TRUE(has_line(bash_complete(path, "otaflash ser"), "serial"));
    EXPECT_TRUE(has_line(bash_complete(path, "otaflash --json ver"), "verify"));
    auto options = bash_complete(path, "otaflash serial --bef");
    EXPECT_TRUE(has_line(options, "--before")) << options;
    EXPECT_TRUE(has_line(bash_complete(path, "otaflash push --json --host-p"), "--host-port"));
    EXPECT_TRUE(has_line(bash_complete(path, "otaflash verify --js"), "--json")) << "global options after the command";
    auto values = bash_complete(path, "otaflash serial --after so");
    EXPECT_TRUE(has_line(values, "soft-reset")) << values;
    EXPECT_TRUE(has_line(bash_complete(path, "otaflash --progress pl"), "plain"));
    EXPECT_TRUE(has_line(bash_complete(path, "otaflash completion f"), "fish"));
}

// zsh completes on a terminal only: an interactive zsh on a pseudo-terminal (zsh/zpty) loads the
// script from fpath through compinit, gets TAB after each line, and the completion must appear.
TEST(Completion, ZshCompletesCommandsOptionsAndValues) {
    const std::string zsh = find_shell("zsh");
    temp_dir dir;
    checked_script(dir, "zsh", zsh, "-n", "_otaflash");
    if (zsh.empty()) return;
    const std::string driver = R"(zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=()" + dir.path() + R"( \$fpath); autoload -Uz compinit; compinit -u -D; echo READY"
zpty -r z out '*READY*'
try() {
    zpty -w -n z $'\C-u'"$1"$'\t'
    zpty -r z out "*$2*" && print -r -- "completed: $1 -> $2"
}
try 'otaflash ser' serial
try 'otaflash serial --bef' --before
try 'otaflash serial --after so' soft-reset
try 'otaflash verify --js' --json
zpty -d z
)";
    process_options options;
    options.timeout = std::chrono::seconds(30);  // a completion that never comes leaves zpty waiting
    auto r = run_process({zsh, "-f", "-c", driver}, options);
    for (const char* expected : {"otaflash ser -> serial", "otaflash serial --bef -> --before",
                                 "otaflash serial --after so -> soft-reset", "otaflash verify --js -> --json"})
        EXPECT_NE(r.out.find(std::string("completed: ") + expected), std::string::npos) << expected << "\n" << r.out << r.err;
}

TEST(Completion, FishCompletesCommandsOptionsAndValues) {
    const std::string fish = find_shell("fish");
    temp_dir dir;
    const std::string path = checked_script(dir, "fish", fish, "--no-execute", "otaflash.fish");
    if (fish.empty()) return;
    auto complete = [&](const std::string& line) {
        process_options options;
        options.env["HOME"] = dir.path();
        options.env["XDG_CONFIG_HOME"] = dir.path();
        options.env["XDG_DATA_HOME"] = dir.path();
        auto r = run_process({fish, "--no-config", "-c", "source " + path + "; complete -C '" + line + "'"}, options);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return r.out;
    };
    auto commands = complete("otaflash ser");
    EXPECT_NE(commands.find("serial\t"), std::string::npos) << commands;
    auto options = complete("otaflash serial --bef");
    EXPECT_NE(options.find("--before\t"), std::string::npos) << options;
    auto values = complete("otaflash serial --after ");
    EXPECT_NE(values.find("no-reset"), std::string::npos) << values;
    EXPECT_EQ(complete("otaflash serial --after ").find("verify\t"), std::string::npos) << "no commands after a command";
}
