#pragma once
// termios speed constants <-> baud rates in bits per second.

#include <cstdint>
#include <termios.h>

namespace otaflash::emulator::rom {

// 0 for B0 or an unknown constant.
std::uint32_t baud_from_speed(speed_t speed) noexcept;

}  // namespace otaflash::emulator::rom
