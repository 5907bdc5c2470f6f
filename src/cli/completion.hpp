#pragma once
// Shell completion scripts for bash, zsh and fish, generated from the CLI11 definition itself: a
// command or option added anywhere in the tree is completed without touching this file.

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace otaflash::cli {

struct completion_option {
    std::vector<std::string> names;    // "-p", "--port"
    bool takes_value = false;
    std::vector<std::string> choices;  // the values an IsMember check allows; empty: any (files)
    std::string help;
};

struct completion_command {
    std::string name;
    std::vector<std::string> aliases;
    std::string help;
    std::vector<completion_option> options;
    bool takes_arguments = false;            // positional arguments (files, targets)
    std::vector<std::string> argument_choices;  // what they may be, when a check says; empty: files
};

struct completion_model {
    std::string program;
    std::vector<completion_option> global;
    std::vector<completion_command> commands;
};

completion_model describe_for_completion(const CLI::App& root);

inline constexpr std::string_view completion_shells[] = {"bash", "zsh", "fish"};
// `shell` is one of completion_shells.
std::string completion_script(const completion_model& model, std::string_view shell);

}  // namespace otaflash::cli
