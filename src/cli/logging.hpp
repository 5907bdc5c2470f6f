#pragma once

#include <otaflash/log.hpp>
#include <otaflash/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otaflash::cli {

struct logging_options {
    int verbose = 0;          // -v count
    bool quiet = false;       // -q
    std::string level;        // --log-level (wins over -v/-q), else OTAFLASH_LOG
    std::string log_file;     // --log-file: a full debug log besides stderr, and the run's outcome
};

// Pure: which level the flags and the environment ask for. Fails on contradictory flags
// or an unknown level name.
result<log_level> resolve_log_level(const logging_options& opts, const char* env_value);

// Installs the spdlog logger (stderr, plus the file when asked) and returns the sink the io layer
// writes through.
result<void> setup_logging(const logging_options& opts);
log_sink& cli_log();

// Writes `line` to the --log-file only (never to stderr): the audit record of a run. Nothing
// happens without a log file.
void audit(std::string_view line);
bool auditing() noexcept;

// Puts "[label] " before every message (nothing for an empty label): one device's lines among
// those of a fleet.
class labelled_log final : public log_sink {
public:
    labelled_log(log_sink& inner, const std::string& label)
        : inner_(inner), prefix_(label.empty() ? std::string{} : "[" + label + "] ") {}
    bool enabled(log_level level) const override { return inner_.enabled(level); }
    void write(log_level level, std::string_view message) override;

private:
    log_sink& inner_;
    std::string prefix_;
};

}  // namespace otaflash::cli
