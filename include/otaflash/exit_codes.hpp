#pragma once
// The one exit-code table (README "Exit status" and man/otaflash.1 EXIT STATUS list the same).
// A core fact beside the error classes, so the emulators and otaflash share it without the CLI.

#include <otaflash/error.hpp>

namespace otaflash {

inline constexpr int exit_ok = 0;

int exit_code_for(condition c) noexcept;
// Like the condition's code, except that SIGTERM gives 143 (128 + 15) where SIGINT gives 130.
int exit_code_for(errc code) noexcept;

}  // namespace otaflash
