#include <otaflash/proto/rom/timeouts.hpp>

#include <algorithm>

namespace otaflash::rom {

duration timeouts::per_mb(double seconds_per_mb, std::uint64_t size) const noexcept {
    const double seconds = seconds_per_mb * (static_cast<double>(size) / 1e6);
    const auto scaled = std::chrono::duration_cast<duration>(std::chrono::duration<double>(seconds));
    return std::clamp(scaled, command, std::max(command, max));
}

}  // namespace otaflash::rom
