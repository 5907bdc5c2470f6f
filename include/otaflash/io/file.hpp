#pragma once

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <string>

namespace otaflash {

// Reads a whole regular file. Failures name the path and say what to check
// (missing, a directory, permissions, empty when `allow_empty` is false).
result<bytes> read_file(const std::string& path, bool allow_empty = false,
                        std::uint64_t max_size = 256ull << 20);

// Writes through a temporary file and rename, so a reader never sees half a file.
result<void> write_file_atomic(const std::string& path, byte_view data);

}  // namespace otaflash
