#pragma once
// The skeleton of `otaflash serve` shared by every transport: starts the backends on one event
// loop, renders their device events through the reporter (a human line each; JSON Lines under
// --json: first {"event":"listening","urls":[…]}, last {"event":"summary",…}), tracks --expect
// until --deadline, stops on SIGINT/SIGTERM with a grace period for transfers in flight, and ends
// with a per-device table. Returns the exit code (README "Exit status of serve"; 13 when stdout
// could not take the output).

#include "cli/output.hpp"

#include <otaflash/release/catalog.hpp>
#include <otaflash/serve/backend.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::cli {

struct serve_settings {
    std::vector<std::string> expect;                  // device ids (MACs in any spelling)
    std::optional<std::chrono::milliseconds> deadline;
    std::chrono::milliseconds grace{10000};
};

int run_serve(const release::catalog& catalog, std::vector<std::unique_ptr<serve::backend>> backends,
              const serve_settings& settings, reporter& out);

// `--expect FILE|ID`: an existing file gives one id per line ('#' comments, blank lines skipped),
// anything else is an id.
result<std::vector<std::string>> read_expected(const std::vector<std::string>& args);

}  // namespace otaflash::cli
