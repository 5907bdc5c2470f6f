#pragma once

#include <otaflash/log.hpp>
#include <otaflash/result.hpp>

#include <optional>
#include <string>

namespace otaflash::cli {

struct logging_options {
    int verbose = 0;          // -v count
    bool quiet = false;       // -q
    std::string level;        // --log-level (wins over -v/-q), else OTAFLASH_LOG
    std::string log_file;     // --log-file: a full debug log besides stderr
};

// Pure: which level the flags and the environment ask for. Fails on contradictory flags
// or an unknown level name.
result<log_level> resolve_log_level(const logging_options& opts, const char* env_value);

// Installs the spdlog logger (stderr, plus the file when asked) and returns the sink the io layer
// writes through.
result<void> setup_logging(const logging_options& opts);
log_sink& cli_log();

}  // namespace otaflash::cli
