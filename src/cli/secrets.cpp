#include "cli/secrets.hpp"

#include <otaflash/io/secret_file.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace otaflash::cli {

std::string_view source_name(password_source source) noexcept {
    switch (source) {
    case password_source::none: return "none";
    case password_source::hash: return "password-hash";
    case password_source::file: return "password-file";
    case password_source::stdin_text: return "password-stdin";
    case password_source::auth_arg: return "auth-argument";
    case password_source::env: return "OTAFLASH_PASSWORD";
    case password_source::prompt: return "prompt";
    case password_source::target_env: return "targets-password_env";
    case password_source::target_file: return "targets-password_file";
    }
    return "none";
}

result<resolved_password> resolve_password(const password_inputs& in, const password_readers& read) {
    const bool has_auth = in.auth_arg && !in.auth_arg->empty();
    const int given = int{has_auth} + int{in.file.has_value()} + int{in.from_stdin} + int{in.hash.has_value()};
    if (given > 1)
        return make_failure(errc::usage_error,
                            "more than one password source given (--auth, --password-file, --password-stdin, "
                            "--password-hash)",
                            "give one of them");
    resolved_password out;
    if (in.hash) {
        std::string hash = *in.hash;
        std::transform(hash.begin(), hash.end(), hash.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (!is_hex(hash) || (hash.size() != 32 && hash.size() != 64))
            return make_failure(errc::usage_error, "--password-hash must be 32 (MD5) or 64 (SHA-256) hex digits",
                                "give the hash the sketch passes to ArduinoOTA.setPasswordHash()");
        out.stored_hash = secret{std::move(hash)};
        out.source = password_source::hash;
        return out;
    }
    if (in.file) {
        auto line = read.file(*in.file);
        if (!line) return std::move(line).error();
        out.password = std::move(*line);
        out.source = password_source::file;
        return out;
    }
    if (in.from_stdin) {
        auto text = read.stdin_text();
        if (!text) return std::move(text).error();
        secret line = first_line_secret(std::move(*text));
        if (line.empty())
            return make_failure(errc::password_unavailable, "--password-stdin read no password",
                                "pipe the password in, e.g. 'pass show esp | otaflash push --password-stdin …'");
        out.password = std::move(line);
        out.source = password_source::stdin_text;
        return out;
    }
    if (has_auth) {
        out.password = secret{*in.auth_arg};
        out.source = password_source::auth_arg;
        out.warnings.push_back("a password on the command line shows in the process list and shell history; "
                               "prefer OTAFLASH_PASSWORD, --password-file or --password-stdin");
        return out;
    }
    if (in.env && !in.env->empty()) {
        out.password = secret{*in.env};
        out.source = password_source::env;
    }
    return out;
}

password_readers system_password_readers() {
    password_readers r;
    r.file = [](const std::string& path) { return read_secret_file(path, "password file"); };
    r.stdin_text = []() -> result<std::string> {
        std::string text;
        int c;
        while (text.size() < 64 * 1024 && (c = std::fgetc(stdin)) != EOF) text.push_back(static_cast<char>(c));
        return text;
    };
    return r;
}

}  // namespace otaflash::cli
