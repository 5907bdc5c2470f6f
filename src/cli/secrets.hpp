#pragma once
// Where the device password comes from. Sources, in order: --password-hash, --password-file,
// --password-stdin, --auth (accepted with a warning: it shows in the process list), then the
// OTAFLASH_PASSWORD environment variable; a no-echo prompt is offered later, only when the device
// asks and a person is at a terminal. At most one command-line source may be given.
// `resolve_password` is pure: reading files and stdin is passed in, so tests cover every case.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/result.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::cli {

struct password_inputs {
    std::optional<std::string> auth_arg;  // --auth / espota -a; empty means "no password" (as the IDEs pass it)
    std::optional<std::string> file;      // --password-file
    bool from_stdin = false;              // --password-stdin
    std::optional<std::string> hash;      // --password-hash
    std::optional<std::string> env;       // OTAFLASH_PASSWORD
};

struct password_readers {
    std::function<result<secret>(const std::string& path)> file;  // the first line, not empty
    std::function<result<std::string>()> stdin_text;
};

// target_env / target_file: a device's own password_env / password_file in a --targets file.
enum class password_source { none, hash, file, stdin_text, auth_arg, env, prompt, target_env, target_file };
std::string_view source_name(password_source source) noexcept;

struct resolved_password {
    secret password;      // the sketch's password
    secret stored_hash;   // or the hash the device stores (lowercase)
    password_source source = password_source::none;
    std::vector<std::string> warnings;
};

result<resolved_password> resolve_password(const password_inputs& inputs, const password_readers& read);

// The readers the CLI uses: the file through io/secret_file.hpp, stdin up to 64 KiB.
password_readers system_password_readers();

}  // namespace otaflash::cli
