#include "erase_units.hpp"

namespace otaflash::emulator::rom {

erase_units next_erase_unit(std::uint32_t sector, std::uint32_t remaining) noexcept {
    if (remaining == 0) return {};
    if (sector % sectors_per_block == 0 && remaining >= sectors_per_block) return {0, 1};
    return {1, 0};
}

erase_units erase_area(std::uint32_t first, std::uint32_t count) noexcept {
    erase_units total;
    while (count > 0) {
        const erase_units unit = next_erase_unit(first, count);
        total += unit;
        first += unit.sectors_covered();
        count -= unit.sectors_covered();
    }
    return total;
}

}  // namespace otaflash::emulator::rom
