#include <otaflash/proto/espota/auth.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/crypto/pbkdf2.hpp>
#include <otaflash/util/hex.hpp>

namespace otaflash::espota {

std::string_view scheme_name(auth_scheme scheme) noexcept {
    return scheme == auth_scheme::md5_legacy ? "md5" : "pbkdf2-sha256";
}

std::optional<auth_scheme> scheme_for_nonce(std::string_view nonce) noexcept {
    if (!is_hex(nonce)) return std::nullopt;
    if (nonce.size() == 32) return auth_scheme::md5_legacy;
    if (nonce.size() == 64) return auth_scheme::pbkdf2_sha256;
    return std::nullopt;
}

std::string stored_hash_md5(std::string_view password) { return to_hex(md5(as_bytes(password))); }
std::string stored_hash_sha256(std::string_view password) { return to_hex(sha256(as_bytes(password))); }

std::string auth_response(auth_scheme scheme, std::string_view stored, std::string_view nonce,
                          std::string_view cnonce) {
    std::string text;
    if (scheme == auth_scheme::md5_legacy) {
        text.append(stored).append(":").append(nonce).append(":").append(cnonce);
        return to_hex(md5(as_bytes(text)));
    }
    std::string salt;
    salt.append(nonce).append(":").append(cnonce);
    const std::string derived = to_hex(pbkdf2_hmac_sha256(stored, salt, pbkdf2_iterations, 32));
    text.append(derived).append(":").append(nonce).append(":").append(cnonce);
    return to_hex(sha256(as_bytes(text)));
}

}  // namespace otaflash::espota
