#pragma once
// Process limits a run may need raised: a fleet push holds two sockets per device at once.

#include <cstdint>

namespace otaflash {

// Raises the soft limit on open files to `wanted` (at most the hard limit) when it is lower.
// Returns the soft limit in force afterwards.
std::uint64_t raise_open_files_limit(std::uint64_t wanted) noexcept;

}  // namespace otaflash
