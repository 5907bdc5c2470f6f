#include <otaflash/crypto/pbkdf2.hpp>

#include <openssl/evp.h>

#include <climits>
#include <stdexcept>

namespace otaflash {

bytes pbkdf2_hmac_sha256(std::string_view password, std::string_view salt, unsigned iterations,
                         std::size_t key_length) {
    if (password.size() > INT_MAX || salt.size() > INT_MAX || iterations > INT_MAX || key_length > INT_MAX)
        throw std::invalid_argument("pbkdf2: argument too large");
    bytes key(key_length);
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                          static_cast<int>(iterations), EVP_sha256(), static_cast<int>(key_length),
                          key.data()) != 1)
        throw std::runtime_error("OpenSSL PBKDF2 failed");
    return key;
}

}  // namespace otaflash
