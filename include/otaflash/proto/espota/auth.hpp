#pragma once
// espota challenge/response (../shared/protocols/espota.md §4). Both ends use these: the host to
// answer a nonce, the emulated device to check the answer.

#include <optional>
#include <string>
#include <string_view>

namespace otaflash::espota {

enum class auth_scheme {
    md5_legacy,     // 32-hex nonce: esp8266, rp2040, esp32 core <= 3.3.0
    pbkdf2_sha256,  // 64-hex nonce: esp32 core >= 3.3.1
};

inline constexpr unsigned pbkdf2_iterations = 10000;

std::string_view scheme_name(auth_scheme scheme) noexcept;

// The scheme a device's nonce announces, by its length; nullopt for any other length or non-hex text.
std::optional<auth_scheme> scheme_for_nonce(std::string_view nonce) noexcept;

// What a device stores for setPassword(): lowercase hex MD5 (legacy) or SHA-256 (PBKDF2 devices)
// of the password's UTF-8 bytes.
std::string stored_hash_md5(std::string_view password);
std::string stored_hash_sha256(std::string_view password);

// The response the device expects, given its stored hash `stored` (used verbatim as text: an
// uppercase hash never matches), its nonce and our cnonce. Lowercase hex, 32 or 64 characters.
std::string auth_response(auth_scheme scheme, std::string_view stored, std::string_view nonce,
                          std::string_view cnonce);

}  // namespace otaflash::espota
