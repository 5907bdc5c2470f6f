#include <otaflash/exit_codes.hpp>

namespace otaflash {

int exit_code_for(condition c) noexcept {
    switch (c) {
    case condition::internal: return 1;
    case condition::usage: return 2;
    case condition::config: return 3;
    case condition::input: return 4;
    case condition::unreachable: return 5;
    case condition::auth: return 6;
    case condition::transfer: return 7;
    case condition::verification: return 8;
    case condition::local_resource: return 9;
    case condition::unconfirmed: return 10;
    case condition::device_refused: return 11;
    case condition::partial: return 12;
    case condition::output: return 13;
    case condition::interrupted: return 130;
    }
    return 1;
}

int exit_code_for(errc code) noexcept {
    return code == errc::interrupted_sigterm ? 143 : exit_code_for(condition_of(code));
}

}  // namespace otaflash
