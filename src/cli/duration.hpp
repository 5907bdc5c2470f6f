#pragma once
// Durations on the command line: "250ms", "3s", "1.5s", "2m"; a bare number means seconds.

#include <otaflash/result.hpp>

#include <chrono>
#include <string>

namespace otaflash::cli {

result<std::chrono::milliseconds> parse_duration(const std::string& text, const std::string& option);

}  // namespace otaflash::cli
