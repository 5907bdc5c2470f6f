#pragma once
// Durations on the command line: "250ms", "3s", "1.5s", "2m"; a bare number means seconds.

#include <otaflash/result.hpp>

#include <chrono>
#include <string>

namespace otaflash::cli {

// The shortest wait any timeout option accepts: below it a live device on a good network cannot
// answer in time, and the run would end in a false diagnosis ("no answer", "stalled").
inline constexpr std::chrono::milliseconds min_timeout{100};

// Refuses values below `floor` (a usage error naming the option and the floor).
result<std::chrono::milliseconds> parse_duration(const std::string& text, const std::string& option,
                                                 std::chrono::milliseconds floor);

}  // namespace otaflash::cli
