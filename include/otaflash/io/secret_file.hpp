#pragma once
// Secrets given to otaflash and its emulators the one way the README documents: a file whose first
// line is the secret, or an environment variable; never a command-line argument.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/result.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otaflash {

// The first line of the file at `path` (first_line_secret). `what` names the file in failures
// ("password file", "--token-file"): unreadable, or an empty first line (file_empty).
result<secret> read_secret_file(const std::string& path, std::string_view what);

// read_secret_file(*file) when a file is given, else the value of the environment variable
// `variable`; an empty secret when neither holds one.
result<secret> secret_from_file_or_env(const std::optional<std::string>& file, const char* variable, std::string_view what);

}  // namespace otaflash
