#include "cli/duration.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

namespace otaflash::cli {

result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view option) {
    const std::string s{text};
    auto bad = [&] {
        return make_failure(errc::usage_error, std::string{option} + " '" + s + "' is not a duration",
                            "write it like 500ms, 10s, 1.5s or 2m (a bare number is seconds)");
    };
    if (s.empty()) return bad();
    char* end = nullptr;
    const double value = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || !std::isfinite(value) || value < 0) return bad();
    const std::string unit{end};
    double ms = 0;
    if (unit.empty() || unit == "s") ms = value * 1000.0;
    else if (unit == "ms") ms = value;
    else if (unit == "m" || unit == "min") ms = value * 60000.0;
    else return bad();
    if (ms < 1 || ms > 24.0 * 3600 * 1000)
        return make_failure(errc::usage_error, std::string{option} + " '" + s + "' is out of range",
                            "use at least 1ms and at most 24h");
    return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

}  // namespace otaflash::cli
