#pragma once
// Pieces the image parsers share: the segment walk with the checksum, the trailer placement, and
// the memory-map test used to decide between readings of the same bytes.

#include <otaflash/image/esp_image.hpp>

namespace otaflash::image::detail {

inline constexpr std::size_t common_header_size = 8;
inline constexpr std::size_t extended_header_size = 16;
inline constexpr std::size_t segment_header_size = 8;

// Reads `count` segments starting with a segment header at `offset`, names their regions with
// `map`, and XORs their data into `checksum`. Returns the offset just past the last segment.
result<std::size_t> read_segments(byte_view data, std::size_t offset, std::size_t count, const chip_info& map,
                                  std::vector<segment>& out, std::uint8_t& checksum);

// The checksum byte sits at the first offset at or after `end` with offset % 16 == 15.
constexpr std::size_t checksum_offset_after(std::size_t end) noexcept { return end | 0x0F; }

// Every segment loads inside the chip's memory and the entry point is in its executable RAM.
// Always true for a chip whose map is unknown (nothing can be said).
bool addresses_fit(const image_info& image, const chip_info& c) noexcept;

// A fixed-size C string field (descriptor strings, partition labels): up to the first NUL, with
// control characters turned into '?' so that a corrupt file cannot drive the terminal.
std::string printable_field(byte_view field);

}  // namespace otaflash::image::detail
