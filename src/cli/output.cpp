#include "cli/output.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/version.hpp>

namespace otaflash::cli {

reporter::reporter(output_format format, std::FILE* out, std::FILE* err) : format_(format), out_(out), err_(err) {}

void reporter::line(std::string_view text) {
    if (json()) return;
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fputc('\n', out_);
}

void reporter::warn(std::string text) {
    if (!json()) std::fprintf(err_, "warning: %s\n", text.c_str());
    warnings_.push_back(std::move(text));
}

int reporter::succeed(std::string_view command, nlohmann::json result) {
    return finish(command, nullptr, std::move(result));
}

int reporter::fail(std::string_view command, const failure& error, nlohmann::json result) {
    const failure blamed = blame_environment(error, from_env_);
    return finish(command, &blamed, std::move(result));
}

int reporter::finish(std::string_view command, const failure* error, nlohmann::json result) {
    const int code = error ? exit_code_for(error->code) : exit_ok;
    if (finished_) return code;
    finished_ = true;
    if (json()) {
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
        const std::string text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
        std::fprintf(out_, "%s\n", text.c_str());
    } else if (error) {
        std::fprintf(err_, "error: %s\n", error->message.c_str());
        if (!error->hint.empty()) std::fprintf(err_, "hint: %s\n", error->hint.c_str());
    }
    std::fflush(out_);
    return code;
}

}  // namespace otaflash::cli
