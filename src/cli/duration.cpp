#include "cli/duration.hpp"

#include <cmath>
#include <cstdlib>

namespace otaflash::cli {

result<std::chrono::milliseconds> parse_duration(const std::string& text, const std::string& option,
                                                 std::chrono::milliseconds floor) {
    auto bad = [&] {
        return make_failure(errc::usage_error, option + ": '" + text + "' is not a duration",
                            "write e.g. 500ms, 10s, 1.5s or 2m (a bare number means seconds)");
    };
    if (text.empty()) return bad();
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || !std::isfinite(value) || value < 0) return bad();
    const std::string unit{end};
    double ms;
    if (unit.empty() || unit == "s") ms = value * 1000.0;
    else if (unit == "ms") ms = value;
    else if (unit == "m" || unit == "min") ms = value * 60000.0;
    else return bad();
    if (ms > 24.0 * 3600 * 1000) return bad();
    if (ms < static_cast<double>(floor.count()))
        return make_failure(errc::usage_error,
                            option + ": '" + text + "' is shorter than its floor of " + std::to_string(floor.count()) + "ms",
                            "a wait this short cannot tell a slow device from an absent one; give at least " +
                                std::to_string(floor.count()) + "ms (the default suits most networks)");
    return std::chrono::milliseconds(static_cast<long long>(std::llround(ms)));
}

}  // namespace otaflash::cli
