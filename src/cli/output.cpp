#include "cli/output.hpp"

#include "cli/audit.hpp"
#include "cli/logging.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/io/interrupt.hpp>
#include <otaflash/version.hpp>

#include <cerrno>
#include <cstring>

namespace otaflash::cli {

reporter::reporter(output_format format, std::FILE* out, std::FILE* err) : format_(format), out_(out), err_(err) {}

void reporter::line(std::string_view text) {
    if (!json()) write_line(text);
}

void reporter::event(const nlohmann::json& record) {
    if (json()) write_line(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void reporter::write_line(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fputc('\n', out_);
    if (std::fflush(out_) != 0 && write_errno_ == 0) write_errno_ = errno;
}

void reporter::warn(std::string text) {
    if (!json()) std::fprintf(err_, "warning: %s\n", text.c_str());
    warnings_.push_back(std::move(text));
}

int reporter::succeed(std::string_view command, nlohmann::json result) {
    return finish(command, nullptr, std::move(result));
}

int reporter::fail(std::string_view command, const failure& error, nlohmann::json result) {
    failure blamed = blame_environment(error, from_env_);
    // One rule for every command: after SIGINT or SIGTERM the ending is the interruption (130 or
    // 143), whatever failure it caused on the way (a wait cut short, a prompt left).
    if (const int signal_number = io::latched_interrupt();
        signal_number != 0 && condition_of(blamed.code) != condition::interrupted)
        blamed = io::interrupted_failure(signal_number, ": " + blamed.message, blamed.hint);
    return finish(command, &blamed, std::move(result));
}

int reporter::finish(std::string_view command, const failure* error, nlohmann::json result) {
    const int code = error ? exit_code_for(error->code) : exit_ok;
    if (finished_) return code;
    finished_ = true;
    nlohmann::json doc = {
        {"schema", json_schema},
        {"command", command},
        {"ok", error == nullptr},
        {"exit_code", code},
        {"result", std::move(result)},
        {"error", nullptr},
        {"warnings", warnings_},
        {"version", otaflash::version},
    };
    if (error)
        doc["error"] = {{"code", code_name(error->code)},
                        {"condition", condition_name(condition_of(error->code))},
                        {"message", error->message},
                        {"hint", error->hint}};
    if (json() && streaming_) {
        nlohmann::json last = doc["result"].is_object() ? doc["result"] : nlohmann::json::object();
        for (const auto& [key, value] : doc.items())
            if (key != "result") last[key] = value;
        last["event"] = "summary";
        event(last);
    } else if (json()) {
        const std::string text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fprintf(out_, "%s\n", text.c_str());
    }
    if (std::fflush(out_) != 0 && write_errno_ == 0) write_errno_ = errno;
    if (!json() && error) {
        std::fprintf(err_, "error: %s\n", error->message.c_str());
        if (!error->hint.empty()) std::fprintf(err_, "hint: %s\n", error->hint.c_str());
    }
    const int exit_code = error && error->code == errc::output_failed ? code : unwritten(code, error);
    if (auditing()) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
        for (const auto& line : audit_lines(doc, exit_code, ms.count())) audit(line);
    }
    return exit_code;
}

// A result that never arrived is no success: a script that writes `> result.json` on a full disk
// must not take an empty file for a good outcome. What the command itself found goes to stderr.
int reporter::unwritten(int own_code, const failure* error) {
    auto lost = unwritten_output(out_, write_errno_);
    if (!lost) return own_code;
    std::string own = own_code == exit_ok ? std::string{"succeeded (exit 0)"}
                                          : "failed with exit " + std::to_string(own_code) + " (" +
                                                std::string{code_name(error->code)} + ")";
    std::fprintf(err_, "error: %s; the command itself %s\n", lost->message.c_str(), own.c_str());
    std::fprintf(err_, "hint: %s\n", lost->hint.c_str());
    std::fflush(err_);
    return exit_code_for(lost->code);
}

std::optional<failure> unwritten_output(std::FILE* out, int first_errno) {
    if (std::fflush(out) != 0 && first_errno == 0) first_errno = errno;
    if (!std::ferror(out) && first_errno == 0) return std::nullopt;
    const std::string why = first_errno != 0 ? std::strerror(first_errno) : "a write error";
    return make_failure(errc::output_failed, "the result could not be written to standard output: " + why,
                        "make room where standard output goes (or keep the pipe open) and run the command again");
}

}  // namespace otaflash::cli
