#include "cli/environment.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

namespace otaflash::cli {
namespace {

bool named_on_command_line(const CLI::Option& option, const std::vector<std::string>& args) {
    return std::any_of(args.begin(), args.end(), [&](std::string_view word) {
        if (word.starts_with("--"))
            return std::any_of(option.get_lnames().begin(), option.get_lnames().end(), [&](const std::string& n) {
                return word.substr(2) == n || word.substr(2).starts_with(n + "=");
            });
        return word.size() >= 2 && word[0] == '-' &&
               std::any_of(option.get_snames().begin(), option.get_snames().end(),
                           [&](const std::string& n) { return word.substr(1).starts_with(n); });
    });
}

void collect(CLI::App& app, const std::vector<std::string>& args, std::vector<env_setting>& out) {
    for (const CLI::Option* option : app.get_options()) {
        const std::string& variable = option->get_envname();
        if (variable.empty()) continue;
        const char* value = std::getenv(variable.c_str());
        if (value == nullptr || *value == '\0' || named_on_command_line(*option, args)) continue;
        out.push_back({option->get_name(), variable, value});
    }
    for (CLI::App* sub : app.get_subcommands()) collect(*sub, args, out);
}

// "--chip" in "--chip takes ..." but not in "--chips".
bool mentions(std::string_view text, std::string_view option) {
    for (auto at = text.find(option); at != std::string_view::npos; at = text.find(option, at + 1)) {
        const auto end = at + option.size();
        if (end == text.size() || !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '-' || text[end] == '_'))
            return true;
    }
    return false;
}

}  // namespace

std::vector<env_setting> settings_from_environment(CLI::App& app, const std::vector<std::string>& args) {
    std::vector<env_setting> out;
    collect(app, args, out);
    return out;
}

failure blame_environment(failure f, const std::vector<env_setting>& from_env, bool parser_error) {
    if (f.code != errc::usage_error) return f;
    for (const auto& s : from_env) {
        const bool about_it = mentions(f.message, s.option) || mentions(f.hint, s.option);
        if (!about_it || (!parser_error && f.message.find(s.value) == std::string::npos)) continue;
        std::string hint = "fix or unset " + s.variable + " (" + s.option + " on the command line wins over it)";
        if (!f.hint.empty()) hint += "; " + f.hint;
        return make_failure(errc::config_invalid,
                            "environment variable " + s.variable + "='" + s.value + "' is not a valid " + s.option +
                                ": " + f.message,
                            std::move(hint));
    }
    return f;
}

}  // namespace otaflash::cli
