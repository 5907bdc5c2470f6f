#pragma once
// Options whose value came from an environment variable (OTAFLASH_BAUD for --baud, ...). A bad
// value there is a configuration error naming the variable (exit 3), not a usage error about an
// option the user never typed (exit 2).

#include <otaflash/error.hpp>

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace otaflash::cli {

struct env_setting {
    std::string option;    // its long name, "--baud"
    std::string variable;  // "OTAFLASH_BAUD"
    std::string value;
};

// The options of `app` and of the subcommands chosen so far whose environment variable is set
// and which `args` (the command line, in order) does not name.
std::vector<env_setting> settings_from_environment(CLI::App& app, const std::vector<std::string>& args);

// `f` as a configuration error when it is a usage error about a setting from the environment:
// it names the option and, unless `parser_error` (the parser's messages may leave it out), the
// variable's value. Otherwise `f` unchanged.
failure blame_environment(failure f, const std::vector<env_setting>& from_env, bool parser_error = false);

}  // namespace otaflash::cli
