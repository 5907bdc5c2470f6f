#pragma once

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

namespace otaflash {

// Bytes from the operating system's random source (OpenSSL RAND_bytes).
result<bytes> random_bytes(std::size_t count);

}  // namespace otaflash
