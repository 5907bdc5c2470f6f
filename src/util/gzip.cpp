#include <otaflash/util/gzip.hpp>

#include <otaflash/util/zlib_inflater.hpp>

#include <zlib.h>

#include <algorithm>
#include <string>

namespace otaflash {
namespace {

struct stream_guard {
    z_stream* s;
    ~stream_guard() { inflateEnd(s); }
};

failure corrupt(const z_stream& s, const char* what) {
    return make_failure(errc::image_malformed,
                        std::string{"gzip stream "} + what + " at compressed offset " + std::to_string(s.total_in) +
                            (s.msg ? std::string{": "} + s.msg : std::string{}),
                        "the compressed file is damaged: compress the firmware again");
}

}  // namespace

result<gunzipped> gunzip(byte_view data, std::size_t max_output) {
    z_stream s{};
    // 16 + MAX_WBITS: gzip wrapper only (a raw zlib stream is not what a device accepts).
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
        return make_failure(errc::internal_error, "zlib inflateInit2 failed");
    stream_guard guard{&s};

    gunzipped out;
    out.data.resize(std::min<std::size_t>(std::max<std::size_t>(data.size() * 3, 64 * 1024), max_output + 1));
    s.next_in = const_cast<Bytef*>(data.data());
    s.avail_in = static_cast<uInt>(data.size());
    for (;;) {
        if (s.total_out == out.data.size()) {
            if (out.data.size() > max_output)
                return make_failure(errc::image_too_large,
                                    "gzip stream inflates to more than " + std::to_string(max_output) + " bytes",
                                    "is this really a compressed firmware image?");
            out.data.resize(std::min<std::size_t>(out.data.size() * 2, max_output + 1));
        }
        s.next_out = out.data.data() + s.total_out;
        s.avail_out = static_cast<uInt>(out.data.size() - s.total_out);
        const int rc = inflate(&s, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc == Z_BUF_ERROR && s.avail_in == 0) return corrupt(s, "is truncated");
        if (rc != Z_OK && rc != Z_BUF_ERROR) return corrupt(s, "is corrupt");
    }
    if (s.total_out > max_output)
        return make_failure(errc::image_too_large,
                            "gzip stream inflates to more than " + std::to_string(max_output) + " bytes",
                            "is this really a compressed firmware image?");
    out.data.resize(s.total_out);
    out.consumed = s.total_in;
    return out;
}

bytes zlib_compress(byte_view data, int level) {
    uLongf size = compressBound(static_cast<uLong>(data.size()));
    bytes out(size);
    // compress2 only fails for a bad level or too small a buffer, neither of which can happen here.
    compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()), level);
    out.resize(size);
    return out;
}

result<std::vector<std::size_t>> inflated_sizes(byte_view zlib_stream, std::size_t block) {
    zlib_inflater inflater;
    std::vector<std::size_t> sizes;
    bytes piece;
    auto status = zlib_inflater::status::more;
    for (std::size_t at = 0; at < zlib_stream.size(); at += block) {
        piece.clear();
        status = inflater.feed(zlib_stream.subspan(at, std::min(block, zlib_stream.size() - at)), piece);
        if (status == zlib_inflater::status::bad_stream || status == zlib_inflater::status::bad_checksum)
            return make_failure(errc::image_malformed, "zlib stream is corrupt");
        sizes.push_back(piece.size());
    }
    if (status != zlib_inflater::status::finished) return make_failure(errc::image_malformed, "zlib stream is truncated");
    return sizes;
}

}  // namespace otaflash
