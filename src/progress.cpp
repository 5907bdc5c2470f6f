#include <otaflash/progress.hpp>

namespace otaflash {

std::string_view phase_name(phase p) noexcept {
    switch (p) {
    case phase::resolve: return "resolve";
    case phase::invite: return "invite";
    case phase::auth: return "auth";
    case phase::connect: return "connect";
    case phase::detect: return "detect";
    case phase::stub: return "stub";
    case phase::erase: return "erase";
    case phase::upload: return "upload";
    case phase::confirm: return "confirm";
    case phase::verify: return "verify";
    case phase::reset: return "reset";
    }
    return "unknown";
}

}  // namespace otaflash
