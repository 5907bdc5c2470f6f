#include <otaflash/crypto/secret.hpp>

#include <openssl/crypto.h>

namespace otaflash {

void secret::wipe() noexcept {
    if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
    value_.clear();
}

secret first_line_secret(std::string text) {
    std::size_t end = text.find('\n');
    if (end == std::string::npos) end = text.size();
    if (end > 0 && text[end - 1] == '\r') --end;
    secret line{text.substr(0, end)};
    if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
    return line;
}

}  // namespace otaflash
