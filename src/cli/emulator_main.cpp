#include "cli/emulator_main.hpp"

#include "cli/output.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace otaflash::cli {

std::optional<int> parse_emulator_args(CLI::App& app, int argc, char** argv, std::string_view program) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail_emulator(program, make_failure(errc::usage_error, e.what(), "see " + std::string(program) + " --help"));
    }
    return std::nullopt;
}

int fail_emulator(std::string_view program, const failure& error) {
    reporter report(output_format::text);
    return report.fail(program, error);
}

}  // namespace otaflash::cli
