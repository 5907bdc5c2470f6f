#pragma once
// Streaming zlib decoder for FLASH_DEFL_DATA, reporting failures the way the ROM's status codes
// distinguish them: a broken header or deflate stream (0x0B) versus a wrong Adler-32 (0x0C).

#include <otaflash/util/bytes.hpp>

#include <memory>

namespace otaflash::emulator::rom {

class inflater {
public:
    enum class status { more, finished, bad_stream, bad_checksum };

    inflater();
    ~inflater();
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;

    // Decodes `input`, appending what it yields to `out`. Bytes after the end of the stream are
    // ignored (the ROM stops at the Adler-32).
    status feed(byte_view input, bytes& out);

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace otaflash::emulator::rom
