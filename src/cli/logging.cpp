#include "cli/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace otaflash::cli {
namespace {

spdlog::level::level_enum to_spdlog(log_level level) {
    switch (level) {
    case log_level::trace: return spdlog::level::trace;
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warn: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
    }
    return spdlog::level::warn;
}

std::optional<log_level> parse_level(std::string_view name) {
    if (name == "trace") return log_level::trace;
    if (name == "debug") return log_level::debug;
    if (name == "info") return log_level::info;
    if (name == "warn" || name == "warning") return log_level::warn;
    if (name == "error" || name == "quiet") return log_level::error;
    return std::nullopt;
}

std::shared_ptr<spdlog::logger>& audit_logger() {
    static std::shared_ptr<spdlog::logger> logger;
    return logger;
}

// spdlog creates missing folders; an audit log whose folder is mistyped must fail instead, or the
// records of a production run land somewhere nobody looks.
result<void> check_log_folder(const std::string& path) {
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (folder.empty() || std::filesystem::is_directory(folder, ec)) return {};
    return make_failure(errc::write_failed,
                        "cannot open --log-file " + path + ": the folder " + folder.string() + " does not exist",
                        "create the folder first (otaflash never creates it) or fix the path");
}

class spdlog_sink final : public log_sink {
public:
    bool enabled(log_level level) const override { return spdlog::default_logger_raw()->should_log(to_spdlog(level)); }
    void write(log_level level, std::string_view message) override {
        spdlog::default_logger_raw()->log(to_spdlog(level), "{}", message);
    }
};

}  // namespace

result<log_level> resolve_log_level(const logging_options& opts, const char* env_value) {
    if (opts.quiet && opts.verbose > 0)
        return make_failure(errc::usage_error, "-q/--quiet and -v/--verbose contradict each other", "use one of them");
    if (!opts.level.empty()) {
        if (auto level = parse_level(opts.level)) return *level;
        return make_failure(errc::usage_error, "unknown --log-level '" + opts.level + "'",
                            "use one of trace, debug, info, warn, error");
    }
    if (opts.quiet) return log_level::error;
    if (opts.verbose == 1) return log_level::info;
    if (opts.verbose == 2) return log_level::debug;
    if (opts.verbose >= 3) return log_level::trace;
    if (env_value && *env_value) {
        if (auto level = parse_level(env_value)) return *level;
        return make_failure(errc::config_invalid, std::string{"unknown OTAFLASH_LOG level '"} + env_value + "'",
                            "use one of trace, debug, info, warn, error");
    }
    return log_level::warn;
}

result<void> setup_logging(const logging_options& opts) {
    auto level = resolve_log_level(opts, std::getenv("OTAFLASH_LOG"));
    if (!level) return std::move(level).error();

    auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    console->set_pattern("%l: %v");
    console->set_level(to_spdlog(*level));
    std::vector<spdlog::sink_ptr> sinks{console};
    spdlog::level::level_enum logger_level = to_spdlog(*level);
    if (!opts.log_file.empty()) {
        if (auto folder = check_log_folder(opts.log_file); !folder) return folder;
        try {
            auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.log_file);
            file->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
            file->set_level(spdlog::level::debug);
            sinks.push_back(file);
            logger_level = std::min(logger_level, spdlog::level::debug);
            auto audit = std::make_shared<spdlog::logger>("otaflash-audit", file);
            audit->set_level(spdlog::level::info);
            audit->flush_on(spdlog::level::info);
            audit_logger() = std::move(audit);
        } catch (const spdlog::spdlog_ex& e) {
            return make_failure(errc::write_failed, "cannot open --log-file " + opts.log_file + ": " + e.what(),
                                "check that the folder exists and is writable");
        }
    }
    auto logger = std::make_shared<spdlog::logger>("otaflash", sinks.begin(), sinks.end());
    logger->set_level(logger_level);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    return {};
}

void audit(std::string_view line) {
    if (auto& logger = audit_logger()) logger->info("{}", line);
}

bool auditing() noexcept { return audit_logger() != nullptr; }

void labelled_log::write(log_level level, std::string_view message) {
    inner_.write(level, prefix_ + std::string{message});
}

log_sink& cli_log() {
    static spdlog_sink sink;
    return sink;
}

}  // namespace otaflash::cli
