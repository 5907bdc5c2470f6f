#include "cli/app.hpp"

#include "cli/commands/commands.hpp"
#include "cli/environment.hpp"
#include "cli/esptool_compat.hpp"
#include "cli/suggest.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/version.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::cli {
namespace {

constexpr const char* footer = R"(Examples:
  otaflash info firmware.bin                     show what is in an image
  otaflash verify --chip esp32 firmware.bin      check an image before shipping it
  otaflash verify --json build/*.bin | jq .ok    the same, for a script

Exit status: 0 ok, 1 internal error, 2 usage, 3 config, 4 invalid input, 5 unreachable,
6 authentication, 7 transfer, 8 verification, 9 local resource, 10 unconfirmed,
11 device refused, 12 some targets failed, 13 result not written to stdout,
130/143 interrupted. See otaflash(1).)";

bool argv_asks_for_json(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0) return false;
        if (std::strcmp(argv[i], "--json") == 0) return true;
    }
    return false;
}

// "--auth=" (an empty value, as the Arduino IDE passes a blank password) makes CLI11 take the next
// argument as the value; split it so the empty string is the value.
std::vector<std::string> split_empty_values(int argc, char** argv) {
    std::vector<std::string> args;
    bool options_ended = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a{argv[i]};
        if (a == "--") options_ended = true;
        if (!options_ended && a.size() > 3 && a.starts_with("--") && a.back() == '=' &&
            a.find('=') == a.size() - 1) {
            args.emplace_back(a.substr(0, a.size() - 1));
            args.emplace_back();
        } else {
            args.emplace_back(a);
        }
    }
    return args;
}

// The word where a command should be that names none (`otaflash verfy`), if any.
std::optional<std::string> unknown_command(CLI::App& app, const std::vector<std::string>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& word = args[i];
        if (word == "--") return std::nullopt;
        if (word.starts_with("-")) {
            const CLI::Option* option = word.find('=') == std::string::npos ? app.get_option_no_throw(word) : nullptr;
            if (option && option->get_expected_min() > 0) ++i;  // its value
            continue;
        }
        const auto subs = app.get_subcommands([&](CLI::App* sub) { return sub->check_name(word); });
        if (!subs.empty()) return std::nullopt;
        return word;
    }
    return std::nullopt;
}

failure unknown_command_failure(CLI::App& app, const std::string& word) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
    if (auto guess = closest(word, names))
        return make_failure(errc::usage_error, "unknown command '" + word + "'",
                            "did you mean 'otaflash " + *guess + "'? ('otaflash --help' lists the commands)");
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return make_failure(errc::usage_error, "unknown command '" + word + "'", "the commands are " + list);
}

void add_global_options(CLI::App& app, global_options& g) {
    const char* output = "Output";
    app.add_flag("--json", g.json, "Print exactly one JSON document (schema otaflash/v1) on stdout")->group(output);
    app.add_option("--progress", g.progress, "Progress on stderr: auto, bar, plain, json (JSON Lines), none")
        ->default_str("auto")
        ->check(CLI::IsMember({"auto", "bar", "plain", "json", "none"}))
        ->envname("OTAFLASH_PROGRESS")
        ->group(output);
    app.add_flag("-v,--verbose", g.logging.verbose, "More log detail on stderr (repeat: -vv debug, -vvv trace)")
        ->group(output);
    app.add_flag("-q,--quiet", g.logging.quiet, "Only errors on stderr")->group(output);
    app.add_option("--log-level", g.logging.level, "Log level: trace, debug, info, warn, error (env OTAFLASH_LOG)")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->group(output);
    app.add_option("--log-file", g.logging.log_file,
                   "Also write a debug log and the run's outcome (for audits) to this file; its folder must exist")
        ->group(output);
    app.add_flag("--non-interactive", g.non_interactive, "Never prompt (implied when stdin is not a terminal or CI is set)")
        ->envname("OTAFLASH_NON_INTERACTIVE")
        ->group(output);
}

// CLI11 lets an option that may repeat (a vector) take every argument after it, so
// `push --interface ADDR FILE TARGET` read FILE and TARGET as interfaces. One value per occurrence,
// for every option of every command, present and future: repeat the option to give more.
void one_value_per_occurrence(CLI::App& app) {
    for (auto* opt : app.get_options())
        if (!opt->get_positional()) opt->allow_extra_args(false);
    for (auto* sub : app.get_subcommands({})) one_value_per_occurrence(*sub);
}

int usage_failure(app_context& ctx, failure f) {
    ctx.start_output();
    return ctx.report().fail("", f);
}

// --help and --version: like any result, one that cannot be written is an error (exit 13).
int print_text(app_context& ctx, const std::string& text) {
    std::fputs(text.c_str(), stdout);
    if (auto lost = unwritten_output(stdout)) return usage_failure(ctx, *lost);
    return exit_ok;
}

}  // namespace

std::unique_ptr<progress_sink> app_context::progress(std::string label, bool one_of_many) const {
    auto requested = parse_progress_mode(global.progress);
    auto mode = resolve_progress_mode(requested ? *requested : progress_mode::auto_, terminal_, global.json,
                                      global.logging.quiet);
    if (one_of_many && mode == progress_mode::bar) mode = progress_mode::plain;
    return make_progress_renderer(mode, terminal_, std::move(label));
}

const command_fn* app_context::find(CLI::App* sub) const {
    auto it = commands_.find(sub);
    return it == commands_.end() ? nullptr : &it->second;
}

void define_commands(CLI::App& app, app_context& ctx) {
    app.set_version_flag("-V,--version", std::string{"otaflash "} + otaflash::version + " (" +
                                             otaflash::git_describe + ")");
    app.require_subcommand(1);
    app.fallthrough();
    app.footer(footer);
    add_global_options(app, ctx.global);

    register_discover(app, ctx);
    register_info(app, ctx);
    register_verify(app, ctx);
    register_serial(app, ctx);
    register_push(app, ctx);
    register_espota(app, ctx);
    register_serve(app, ctx);
    register_publish(app, ctx);
    register_completion(app, ctx);
    one_value_per_occurrence(app);
}

int run(int argc, char** argv) {
    app_context ctx{read_terminal_facts()};
    CLI::App app{"otaflash: get firmware onto ESP8266/ESP32-family devices, over the air or over serial",
                 "otaflash"};
    define_commands(app, ctx);

    auto translated = from_esptool(split_empty_values(argc, argv), [&](std::string_view name) {
        const CLI::Option* option = app.get_option_no_throw(std::string(name));
        return option != nullptr && option->get_expected_min() > 0;
    });
    if (!translated) {
        ctx.global.json = argv_asks_for_json(argc, argv);
        return usage_failure(ctx, translated.error());
    }
    const std::vector<std::string>& args = *translated;
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them back to front
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        return print_text(ctx, app.help());
    } catch (const CLI::CallForAllHelp&) {
        return print_text(ctx, app.help("", CLI::AppFormatMode::All));
    } catch (const CLI::CallForVersion& v) {
        return print_text(ctx, std::string{v.what()} + "\n");
    } catch (const CLI::ParseError& e) {
        ctx.global.json = argv_asks_for_json(argc, argv);
        if (app.get_subcommands().empty())
            if (auto word = unknown_command(app, args)) return usage_failure(ctx, unknown_command_failure(app, *word));
        std::string where = app.get_subcommands().empty() ? std::string{"otaflash --help"}
                                                          : "otaflash " + app.get_subcommands().front()->get_name() + " --help";
        return usage_failure(ctx, blame_environment(make_failure(errc::usage_error, e.what(), "see '" + where + "'"),
                                                    settings_from_environment(app, args), true));
    }

    ctx.start_output(settings_from_environment(app, args));
    if (auto parsed = parse_progress_mode(ctx.global.progress); !parsed) return ctx.report().fail("", parsed.error());
    if (auto logging = setup_logging(ctx.global.logging); !logging) return ctx.report().fail("", logging.error());

    CLI::App* chosen = app.get_subcommands().front();
    audit(std::string{"start: otaflash "} + otaflash::version + " (" + otaflash::git_describe + ") " + chosen->get_name());
    const command_fn* fn = ctx.find(chosen);
    if (!fn) return ctx.report().fail(chosen->get_name(), make_failure(errc::internal_error, "no runner for command"));
    try {
        return (*fn)(ctx);
    } catch (const std::exception& e) {
        return ctx.report().fail(chosen->get_name(),
                                 make_failure(errc::internal_error, std::string{"unexpected error: "} + e.what(),
                                              "please report this with the output of -vvv"));
    }
}

}  // namespace otaflash::cli
