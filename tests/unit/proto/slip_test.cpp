#include <otaflash/proto/rom/packet.hpp>
#include <otaflash/proto/rom/slip.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::rom;

namespace {
bytes sync_payload() {
    bytes data{0x07, 0x07, 0x12, 0x20};
    data.insert(data.end(), 32, 0x55);
    return data;
}
}  // namespace

// rom-bootloader.md §2.1: C0 00 08 24 00 00 00 00 00 07 07 12 20 55…55 C0, 46 bytes on the wire.
TEST(Slip, SyncFrameOnTheWire) {
    bytes wire = slip::encode(encode_request(0x08, sync_payload()));
    ASSERT_EQ(wire.size(), 46u);
    EXPECT_EQ(to_hex(byte_view(wire).first(12)), std::string("c00008240000000000070712"));
    EXPECT_EQ(wire.front(), 0xC0);
    EXPECT_EQ(wire.back(), 0xC0);
    EXPECT_EQ(wire[44], 0x55);
}

TEST(Slip, EscapesEndAndEscBytes) {
    const bytes payload{0x01, 0xC0, 0x02, 0xDB, 0x03, 0xDB, 0xDC};
    EXPECT_EQ(to_hex(slip::encode(payload)), "c001dbdc02dbdd03dbdddcc0");
}

TEST(Slip, DecodesBackToBackFramesAndIgnoresEmptyOnes) {
    slip::decoder d;
    slip::decoder::output out;
    const bytes wire{0xC0, 0xC0, 0x01, 0xDB, 0xDC, 0xC0, 0xC0, 0x02, 0xDB, 0xDD, 0xC0};
    d.feed(wire, out);
    ASSERT_EQ(out.frames.size(), 2u);
    EXPECT_EQ(out.frames[0], (bytes{0x01, 0xC0}));
    EXPECT_EQ(out.frames[1], (bytes{0x02, 0xDB}));
    EXPECT_TRUE(out.noise.empty());
    EXPECT_EQ(out.framing_errors, 0u);
}

TEST(Slip, DecodesAcrossArbitrarySplits) {
    const bytes payload{0x10, 0xC0, 0xDB, 0x20, 0xC0};
    const bytes wire = slip::encode(payload);
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        slip::decoder d;
        slip::decoder::output out;
        d.feed(byte_view(wire).first(cut), out);
        d.feed(byte_view(wire).subspan(cut), out);
        ASSERT_EQ(out.frames.size(), 1u) << "cut at " << cut;
        EXPECT_EQ(out.frames[0], payload);
    }
}

TEST(Slip, BootLogBeforeAFrameIsNoise) {
    slip::decoder d;
    slip::decoder::output out;
    const std::string log = "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";
    d.feed(as_bytes(log), out);
    d.feed(slip::encode(bytes{0x01, 0x08}), out);
    EXPECT_EQ(as_text(out.noise), log);
    ASSERT_EQ(out.frames.size(), 1u);
}

TEST(Slip, BadEscapeDropsTheFrameAndResynchronises) {
    slip::decoder d;
    slip::decoder::output out;
    const bytes wire{0xC0, 0x01, 0xDB, 0x99, 0x02, 0xC0, 0x03, 0xC0};
    d.feed(wire, out);
    EXPECT_EQ(out.framing_errors, 1u);
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0], (bytes{0x03}));
}

TEST(Slip, OversizedFrameIsBounded) {
    slip::decoder d{16};
    slip::decoder::output out;
    bytes wire{0xC0};
    wire.insert(wire.end(), 100, 0x11);
    wire.push_back(0xC0);
    const bytes good = slip::encode(bytes{0x22});
    wire.insert(wire.end(), good.begin(), good.end());
    d.feed(wire, out);
    EXPECT_EQ(out.framing_errors, 1u);
    ASSERT_EQ(out.frames.size(), 1u);
    EXPECT_EQ(out.frames[0], (bytes{0x22}));
}

TEST(RomPacket, ChecksumIsSeededXor) {
    EXPECT_EQ(data_checksum({}), 0xEF);
    EXPECT_EQ(data_checksum(bytes{0xEF}), 0x00);
    EXPECT_EQ(data_checksum(bytes{0x01, 0x02, 0x04}), 0xEF ^ 0x07);
}

TEST(RomPacket, RequestRoundTrip) {
    const bytes block{0xAA, 0xBB};
    bytes payload = data_payload(3, block);
    EXPECT_EQ(to_hex(payload), "02000000030000000000000000000000aabb");
    auto frame = encode_request(0x03, payload, data_checksum(block));
    auto parsed = parse_request(frame);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->opcode, 0x03);
    EXPECT_EQ(parsed->checksum, static_cast<std::uint32_t>(0xEF ^ 0xAA ^ 0xBB));
    EXPECT_EQ(parsed->data, payload);
}

TEST(RomPacket, ResponseParsingRejectsMalformedFrames) {
    // ESP32-family SYNC reply: 01 08 04 00 <value> 00 00 00 00
    const bytes sync_reply{0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00, 0x00, 0x00, 0x00};
    auto r = parse_response(sync_reply);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->opcode, 0x08);
    EXPECT_EQ(r->value, 0x20120707u);
    EXPECT_EQ(r->data.size(), 4u);
    EXPECT_FALSE(parse_response(bytes{0x01, 0x08, 0x04}));                                // short
    EXPECT_FALSE(parse_response(bytes{0x00, 0x08, 0x00, 0x00, 0, 0, 0, 0}));              // a request
    EXPECT_FALSE(parse_response(bytes{0x01, 0x08, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}));  // size lies
}
