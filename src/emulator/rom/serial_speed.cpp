#include "serial_speed.hpp"

// termios2 lives in the kernel header, which cannot be mixed with <termios.h> in one file.
#include <asm/termbits.h>
#include <sys/ioctl.h>

namespace otaflash::emulator::rom {

std::uint32_t line_baud(int fd) noexcept {
    struct termios2 tio {};
    if (::ioctl(fd, TCGETS2, &tio) != 0) return 0;
    return tio.c_ospeed;
}

}  // namespace otaflash::emulator::rom
