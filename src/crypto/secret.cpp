#include <otaflash/crypto/secret.hpp>

#include <openssl/crypto.h>

namespace otaflash {

void secret::wipe() noexcept {
    if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
    value_.clear();
}

}  // namespace otaflash
