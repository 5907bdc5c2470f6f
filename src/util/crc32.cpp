#include <otaflash/util/crc32.hpp>

#include <zlib.h>

#include <algorithm>

namespace otaflash {

std::uint32_t crc32_update(std::uint32_t crc, byte_view data) noexcept {
    uLong value = crc;
    // zlib takes uInt lengths: feed large inputs in pieces.
    while (!data.empty()) {
        const auto n = static_cast<uInt>(std::min<std::size_t>(data.size(), 1u << 30));
        value = ::crc32(value, data.data(), n);
        data = data.subspan(n);
    }
    return static_cast<std::uint32_t>(value);
}

}  // namespace otaflash
