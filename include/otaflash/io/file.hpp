#pragma once

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace otaflash {

// Reads a whole regular file. Failures name the path and say what to check
// (missing, a directory, permissions, empty when `allow_empty` is false).
result<bytes> read_file(const std::string& path, bool allow_empty = false,
                        std::uint64_t max_size = 256ull << 20);

// What a reader can tell from a file's first bytes (at most `head_size` of them) and its size:
// a failure refuses the file before the rest is read or any memory is set aside for it.
using head_check = std::function<std::optional<failure>(byte_view head, std::uint64_t file_size)>;
inline constexpr std::size_t head_size = 8192;

// read_file, but `check` sees the head first: a file that is plainly not what the caller wants
// (a 64 MiB sparse file, a disk image) costs one small read, not its size in memory.
result<bytes> read_file_checked(const std::string& path, const head_check& check,
                                std::uint64_t max_size = 256ull << 20);

// Writes through a temporary file and rename, so a reader never sees half a file.
result<void> write_file_atomic(const std::string& path, byte_view data);

}  // namespace otaflash
