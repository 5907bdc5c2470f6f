#include <otaflash/io/secret_file.hpp>

#include <otaflash/io/file.hpp>

#include <openssl/crypto.h>

#include <cstdlib>

namespace otaflash {

result<secret> read_secret_file(const std::string& path, std::string_view what) {
    auto data = read_file(path, true, 64 * 1024);
    if (!data) return std::move(data).error();
    secret line = first_line_secret(std::string(as_text(*data)));
    OPENSSL_cleanse(data->data(), data->size());
    if (line.empty())
        return make_failure(errc::file_empty, "the " + std::string(what) + " " + path + " has an empty first line",
                            "write the secret on the file's first line");
    return line;
}

result<secret> secret_from_file_or_env(const std::optional<std::string>& file, const char* variable, std::string_view what) {
    if (file) return read_secret_file(*file, what);
    const char* value = std::getenv(variable);
    return secret{value ? std::string(value) : std::string()};
}

}  // namespace otaflash
