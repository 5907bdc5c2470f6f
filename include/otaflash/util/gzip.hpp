#pragma once
// gzip (RFC 1952) decompression, bounded: for firmware files compressed with `gzip -9`
// (the ESP8266 Arduino updater accepts them) and for any later deflate user.

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstddef>
#include <vector>

namespace otaflash {

inline bool is_gzip(byte_view data) noexcept { return data.size() >= 2 && data[0] == 0x1F && data[1] == 0x8B; }

struct gunzipped {
    bytes data;
    std::size_t consumed = 0;  // compressed bytes of the first gzip member; anything after is the caller's
};

// Inflates the first gzip member. Fails with image_malformed on a corrupt or truncated stream and
// with image_too_large when the output would pass `max_output` bytes (a decompression bomb).
result<gunzipped> gunzip(byte_view data, std::size_t max_output);

// A zlib stream (RFC 1950: header, deflate, Adler-32) of `data`, as the ROM's FLASH_DEFL_* commands
// take it (esptool compresses at level 9).
bytes zlib_compress(byte_view data, int level = 9);

// How many uncompressed bytes each `block`-sized piece of a zlib stream yields when inflated in
// order: the ROM inflates and writes each piece before it answers, so its time budget and the
// progress it means follow these sizes. Fails with image_malformed on a corrupt stream.
result<std::vector<std::size_t>> inflated_sizes(byte_view zlib_stream, std::size_t block);

}  // namespace otaflash
