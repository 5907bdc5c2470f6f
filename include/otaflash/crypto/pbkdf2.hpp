#pragma once

#include <otaflash/util/bytes.hpp>

#include <string_view>

namespace otaflash {

// RFC 8018 PBKDF2 with HMAC-SHA-256.
bytes pbkdf2_hmac_sha256(std::string_view password, std::string_view salt, unsigned iterations,
                         std::size_t key_length);

}  // namespace otaflash
