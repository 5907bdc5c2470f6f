#pragma once
// Incremental zlib (RFC 1950) decoder: fed piece by piece, as the ROM's FLASH_DEFL_DATA blocks
// arrive. It tells a broken header or deflate stream from a wrong Adler-32, which the ROM reports
// with different status codes (0x0B, 0x0C).

#include <otaflash/util/bytes.hpp>

#include <memory>

namespace otaflash {

class zlib_inflater {
public:
    enum class status { more, finished, bad_stream, bad_checksum };

    zlib_inflater();
    ~zlib_inflater();
    zlib_inflater(const zlib_inflater&) = delete;
    zlib_inflater& operator=(const zlib_inflater&) = delete;

    // Decodes `input`, appending what it yields to `out`. Bytes after the end of the stream are
    // ignored (the ROM stops at the Adler-32). Once it returned finished, bad_stream or
    // bad_checksum, it keeps returning that.
    status feed(byte_view input, bytes& out);

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace otaflash
