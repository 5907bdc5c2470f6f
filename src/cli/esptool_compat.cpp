#include "cli/esptool_compat.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

namespace otaflash::cli {
namespace {

struct command_alias {
    std::string_view esptool;
    std::string_view ours;
};
// esptool v4 spells its commands with underscores, v5 with dashes.
constexpr std::array command_aliases{
    command_alias{"write_flash", "serial"},
    command_alias{"write-flash", "serial"},
    command_alias{"verify_flash", "verify"},
    command_alias{"verify-flash", "verify"},
};

// esptool's global options (they come before its command, ours after): taken as they are.
constexpr std::array global_with_value{"-p", "--port", "-b", "--baud", "-c", "--chip", "--before", "--after",
                                       "--connect-attempts"};

struct option_alias {
    std::string_view esptool;
    std::vector<std::string_view> ours;  // empty: dropped
};

// Options of esptool's write_flash / verify_flash (and --no-stub, a global) in otaflash's words.
const std::vector<option_alias>& option_aliases() {
    static const std::vector<option_alias> aliases{
        {"--no-stub", {"--stub", "none"}},
        {"-z", {"--compress"}},
        {"--compress", {"--compress"}},
        {"-u", {"--no-compress"}},
        {"--no-compress", {"--no-compress"}},
        {"--no-progress", {"--progress", "none"}},
        // Every write is verified where the loader can compute an MD5 (esptool deprecated --verify).
        {"--verify", {}},
    };
    return aliases;
}

// Options with a value that otaflash spells otherwise, or accepts only as a no-op.
constexpr std::array size_names{"--flash_size", "-fs", "--flash-size"};
// esptool rewrites the flash mode and frequency in a bootloader's header unless told `keep`;
// otaflash writes images as they are, so only `keep` means what it says.
constexpr std::array header_names{"--flash_mode", "-fm", "--flash-mode", "--flash_freq", "-ff", "--flash-freq"};
constexpr std::array diff_names{"--diff", "-d"};  // verify_flash: otaflash always names the first difference
constexpr std::array unsupported{"-e", "--erase-all", "--encrypt", "--encrypt-files", "-t", "--trace",
                                 "--ignore-flash-encryption-efuse-setting", "--port-filter", "--override-vddsdio"};

template <std::size_t N>
bool one_of(std::string_view word, const std::array<const char*, N>& names) {
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return word == n; });
}

// "--before=default_reset" → name "--before", value "default_reset".
std::pair<std::string_view, std::optional<std::string_view>> split_inline(std::string_view word) {
    if (!word.starts_with("--")) return {word, std::nullopt};
    const auto eq = word.find('=');
    if (eq == std::string_view::npos) return {word, std::nullopt};
    return {word.substr(0, eq), word.substr(eq + 1)};
}

failure not_supported(std::string_view option, std::string why) {
    return make_failure(errc::usage_error, "esptool's " + std::string(option) + " is not supported by otaflash",
                        std::move(why));
}

}  // namespace

result<std::vector<std::string>> from_esptool(std::vector<std::string> args,
                                              const std::function<bool(std::string_view)>& global_takes_value) {
    std::size_t command_at = args.size();
    for (std::size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
        auto [name, inline_value] = split_inline(args[i]);
        if (!name.starts_with("-")) {
            command_at = i;
            break;
        }
        if (!inline_value && (one_of(name, global_with_value) || global_takes_value(name))) ++i;
    }
    if (command_at == args.size()) return args;
    auto alias = std::find_if(command_aliases.begin(), command_aliases.end(),
                              [&](const command_alias& a) { return args[command_at] == a.esptool; });
    if (alias == command_aliases.end()) return args;
    const std::string_view ours = alias->ours;

    std::vector<std::string> before, moved, after;
    for (std::size_t i = 0; i < command_at; ++i) {
        auto [name, inline_value] = split_inline(args[i]);
        if (one_of(name, global_with_value)) {
            moved.push_back(args[i]);
            if (!inline_value && i + 1 < command_at) moved.push_back(args[++i]);
        } else if (name == "--no-stub") {
            moved.insert(moved.end(), {"--stub", "none"});
        } else if (one_of(name, unsupported)) {
            return not_supported(name, "drop it: see 'otaflash " + std::string(ours) + " --help'");
        } else {
            before.push_back(args[i]);  // one of otaflash's global options (--json, -v, ...)
        }
    }
    bool options_ended = false;
    for (std::size_t i = command_at + 1; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (options_ended || word == "--") {
            options_ended = true;
            after.push_back(word);
            continue;
        }
        auto [name, inline_value] = split_inline(word);
        auto next_value = [&]() -> std::optional<std::string> {
            if (inline_value) return std::string(*inline_value);
            if (i + 1 < args.size()) return args[++i];
            return std::nullopt;
        };
        const auto& aliases = option_aliases();
        auto alias = std::find_if(aliases.begin(), aliases.end(), [&](const option_alias& a) { return word == a.esptool; });
        if (alias != aliases.end()) {
            after.insert(after.end(), alias->ours.begin(), alias->ours.end());
        } else if (one_of(name, size_names)) {
            after.push_back("--flash-size");
            if (auto v = next_value()) after.push_back(*v);
        } else if (one_of(name, header_names)) {
            auto v = next_value();
            if (v && *v != "keep")
                return make_failure(errc::usage_error,
                                    "esptool's " + std::string(name) + " " + *v +
                                        " rewrites the image header; otaflash writes images as they are",
                                    "build the image with the flash mode and frequency you want and drop " +
                                        std::string(name) + " (or give it as 'keep')");
        } else if (one_of(name, diff_names) && ours == "verify") {
            next_value();
        } else if (one_of(name, unsupported)) {
            return not_supported(name, "drop it: see 'otaflash " + std::string(ours) + " --help'");
        } else if (word.starts_with("@")) {
            return make_failure(errc::usage_error, "esptool's argument file " + word + " is not read by otaflash",
                                "give its OFFSET FILE pairs and options on the command line");
        } else {
            after.push_back(word);
        }
    }

    std::vector<std::string> out = std::move(before);
    out.emplace_back(ours);
    out.insert(out.end(), moved.begin(), moved.end());
    out.insert(out.end(), after.begin(), after.end());
    return out;
}

}  // namespace otaflash::cli
