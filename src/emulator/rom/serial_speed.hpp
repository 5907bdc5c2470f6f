#pragma once
// The baud rate a terminal runs at, as set by whoever opened it (a pty's master sees the slave's
// settings), including rates set with BOTHER (termios2) such as the ESP8266's 74880.

#include <cstdint>

namespace otaflash::emulator::rom {

// 0 when it cannot be read.
std::uint32_t line_baud(int fd) noexcept;

}  // namespace otaflash::emulator::rom
