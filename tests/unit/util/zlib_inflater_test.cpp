// The incremental zlib decoder the emulated ROM inflates FLASH_DEFL_DATA with and the host sizes
// its compressed blocks with.

#include <otaflash/util/gzip.hpp>
#include <otaflash/util/zlib_inflater.hpp>

#include <gtest/gtest.h>

using namespace otaflash;

namespace {

bytes sample() {
    bytes data(20000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 / 5);
    return data;
}

zlib_inflater::status inflate_in_pieces(byte_view stream, std::size_t piece, bytes& out) {
    zlib_inflater inflater;
    auto status = zlib_inflater::status::more;
    for (std::size_t at = 0; at < stream.size(); at += piece)
        status = inflater.feed(stream.subspan(at, std::min(piece, stream.size() - at)), out);
    return status;
}

}  // namespace

TEST(ZlibInflater, AnyPieceSizeGivesTheDataAndIgnoresWhatFollowsTheStream) {
    const bytes data = sample();
    bytes stream = zlib_compress(data, 9);
    stream.insert(stream.end(), {0x12, 0x34});  // after the Adler-32
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{1024}, stream.size()}) {
        bytes out;
        EXPECT_EQ(inflate_in_pieces(stream, piece, out), zlib_inflater::status::finished) << piece;
        EXPECT_EQ(out, data) << piece;
    }
}

TEST(ZlibInflater, TellsABrokenStreamFromAWrongChecksum) {
    const bytes stream = zlib_compress(sample(), 9);
    bytes out;
    EXPECT_EQ(inflate_in_pieces(byte_view(stream).first(stream.size() / 2), 100, out), zlib_inflater::status::more);

    bytes wrong_adler = stream;
    wrong_adler.back() ^= 0x01;
    out.clear();
    EXPECT_EQ(inflate_in_pieces(wrong_adler, 100, out), zlib_inflater::status::bad_checksum);

    bytes bad_header = stream;
    bad_header[1] ^= 0x01;  // FCHECK no longer makes the header a multiple of 31
    out.clear();
    EXPECT_EQ(inflate_in_pieces(bad_header, 100, out), zlib_inflater::status::bad_stream);

    bytes bad_block = stream;
    bad_block[2] = 0xFF;  // BTYPE 11: reserved
    out.clear();
    EXPECT_EQ(inflate_in_pieces(bad_block, 100, out), zlib_inflater::status::bad_stream);

    zlib_inflater inflater;  // once failed, it stays failed
    EXPECT_EQ(inflater.feed(bad_header, out), zlib_inflater::status::bad_stream);
    EXPECT_EQ(inflater.feed(stream, out), zlib_inflater::status::bad_stream);
}
