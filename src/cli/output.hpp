#pragma once
// Where results go. Text mode: human lines on stdout, warnings and errors on stderr.
// JSON mode: nothing on stdout but exactly one document at the end, on success and on failure:
//   {"schema":"otaflash/v1","command":…,"ok":…,"exit_code":…,"result":{…},
//    "error":{"code","condition","message","hint"}|null,"warnings":[…],"version":…}
// A command that reports as it goes (serve) streams JSON Lines instead: one event a line, and the
// document, as one line with "event":"summary" and the result's fields beside its own, last.

#include "cli/environment.hpp"

#include <otaflash/error.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::cli {

inline constexpr std::string_view json_schema = "otaflash/v1";

enum class output_format { text, json };

class reporter {
public:
    explicit reporter(output_format format, std::FILE* out = stdout, std::FILE* err = stderr);

    bool json() const noexcept { return format_ == output_format::json; }

    // A line of human output (text mode only; dropped under --json, where `result` carries it),
    // flushed at once so that in a log of both streams (2>&1 | cat) it comes before the error.
    void line(std::string_view text);
    // Shown on stderr in text mode; listed under "warnings" in JSON mode.
    void warn(std::string text);

    // From now on under --json: JSON Lines (see above) instead of one document at the end.
    void stream_events() noexcept { streaming_ = true; }
    // One JSON Lines record (JSON mode only; dropped in text mode, where `line` carries it),
    // flushed at once so that whoever follows the stream sees it as it happens.
    void event(const nlohmann::json& record);

    // End the command. Each returns the process exit code; 13 (errc::output_failed) when the result
    // could not be written to `out` (a full disk, a closed pipe), whatever the command's own.
    int succeed(std::string_view command, nlohmann::json result = nlohmann::json::object());
    int fail(std::string_view command, const failure& error, nlohmann::json result = nlohmann::json::object());

    // A usage error about one of these settings is reported as the environment's (exit 3).
    void blame_environment_for(std::vector<env_setting> from_env) { from_env_ = std::move(from_env); }

    // For a JSON document that has already been started (not for use by commands).
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }

private:
    int finish(std::string_view command, const failure* error, nlohmann::json result);
    int unwritten(int own_code, const failure* error);
    void write_line(std::string_view text);

    output_format format_;
    std::FILE* out_;
    std::FILE* err_;
    std::vector<std::string> warnings_;
    std::vector<env_setting> from_env_;
    bool streaming_ = false;
    bool finished_ = false;
    int write_errno_ = 0;  // the first failed write to `out`
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Whether everything written to `out` so far reached it: flushed, no error on the stream. The
// failure (errc::output_failed) names the reason.
std::optional<failure> unwritten_output(std::FILE* out, int first_errno = 0);

}  // namespace otaflash::cli
