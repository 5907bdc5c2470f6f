#pragma once
// What the emulators' mains (otaflash-ota-device, -mqtt-device, -pull-device) share with each
// other and with otaflash: argv parsed by CLI11 one way (help and version printed, a parse error
// ended as a usage error, exit 2), and a failure ended as otaflash ends one ("error:" and "hint:"
// on stderr, the documented exit code).

#include <otaflash/error.hpp>

#include <optional>
#include <string_view>

namespace CLI {
class App;
}

namespace otaflash::cli {

// nullopt: parsed, main goes on. Otherwise what main returns: 0 after --help or --version, 2
// after a usage error (said on stderr with a pointer to `program --help`).
std::optional<int> parse_emulator_args(CLI::App& app, int argc, char** argv, std::string_view program);

// Says `error` on stderr and returns its exit code.
int fail_emulator(std::string_view program, const failure& error);

}  // namespace otaflash::cli
