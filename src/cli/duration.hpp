#pragma once
// Time spans on the command line: "500ms", "10s", "1.5s", "2m"; a bare number is seconds
// (espota.py's -t is seconds).

#include <otaflash/result.hpp>

#include <chrono>
#include <string_view>

namespace otaflash::cli {

result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view option);

}  // namespace otaflash::cli
