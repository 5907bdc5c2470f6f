#include <otaflash/util/zlib_inflater.hpp>

#include <zlib.h>

#include <array>

namespace otaflash {

// The zlib header and Adler-32 trailer are checked here, the deflate data by zlib's raw mode, so
// that a wrong checksum is told apart from a broken stream without reading zlib's message text.
struct zlib_inflater::state {
    enum class phase { header, body, trailer, done, failed } where = phase::header;
    z_stream z{};
    bool z_ready = false;
    bytes header;
    bytes trailer;
    uLong adler = adler32(0L, Z_NULL, 0);
    status last = status::more;

    ~state() { if (z_ready) inflateEnd(&z); }
};

zlib_inflater::zlib_inflater() : state_(std::make_unique<state>()) {}
zlib_inflater::~zlib_inflater() = default;

zlib_inflater::status zlib_inflater::feed(byte_view input, bytes& out) {
    auto& s = *state_;
    std::size_t pos = 0;
    while (pos < input.size() || s.where == state::phase::body) {
        switch (s.where) {
        case state::phase::header: {
            s.header.push_back(input[pos++]);
            if (s.header.size() < 2) break;
            const unsigned cmf = s.header[0], flg = s.header[1];
            const bool valid = (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0 && !(flg & 0x20);
            if (!valid || inflateInit2(&s.z, -15) != Z_OK) {
                s.where = state::phase::failed;
                return s.last = status::bad_stream;
            }
            s.z_ready = true;
            s.where = state::phase::body;
            break;
        }
        case state::phase::body: {
            std::array<std::uint8_t, 4096> chunk;
            s.z.next_in = const_cast<Bytef*>(input.data() + pos);
            s.z.avail_in = static_cast<uInt>(input.size() - pos);
            s.z.next_out = chunk.data();
            s.z.avail_out = chunk.size();
            const int rc = inflate(&s.z, Z_NO_FLUSH);
            const std::size_t produced = chunk.size() - s.z.avail_out;
            pos = input.size() - s.z.avail_in;
            out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(produced));
            s.adler = adler32(s.adler, chunk.data(), static_cast<uInt>(produced));
            if (rc == Z_STREAM_END) {
                s.where = state::phase::trailer;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                s.where = state::phase::failed;
                return s.last = status::bad_stream;
            } else if (produced == 0 && pos == input.size()) {
                return s.last = status::more;
            }
            break;
        }
        case state::phase::trailer:
            s.trailer.push_back(input[pos++]);
            if (s.trailer.size() == 4) {
                const uLong expected = (uLong{s.trailer[0]} << 24) | (uLong{s.trailer[1]} << 16) |
                                       (uLong{s.trailer[2]} << 8) | uLong{s.trailer[3]};
                s.where = expected == s.adler ? state::phase::done : state::phase::failed;
                return s.last = expected == s.adler ? status::finished : status::bad_checksum;
            }
            break;
        case state::phase::done:
        case state::phase::failed:
            return s.last;
        }
    }
    return s.where == state::phase::done ? status::finished : s.last;
}

}  // namespace otaflash
