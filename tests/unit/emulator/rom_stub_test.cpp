// Uploaded code that is a flasher stub (rom-bootloader.md §2.1 MEM_*, FLASH_*, §9.3): the OHAI
// greeting, the stub's replies, writes acknowledged on receipt and programmed while the next
// block arrives, erase ahead of the writes, deflate and baud changes on ESP8266, deferred write
// errors, erase and read commands. Time is a parameter.

#include "rom_model_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::test;
using emu::chip_kind;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t stub_block = 0x4000;
constexpr std::size_t stub_status = 2;
constexpr std::size_t ack_wire_bytes = 12;  // C0, 8-byte header, 2 status bytes, C0

double ms_since(emu::time_point from, emu::time_point to) { return std::chrono::duration<double, std::milli>(to - from).count(); }
double wire_ms(std::size_t bytes_count, std::uint32_t baud) { return bytes_count * 10.0 / baud * 1000; }

std::string status_hex(const received& r, std::size_t len = stub_status) {
    if (r.responses.empty()) return "no reply";
    return to_hex(status_of(r.responses.back(), len));
}

// Where each chip's stub is uploaded (its instruction RAM); the bytes themselves are made up.
std::uint32_t iram_of(chip_kind chip) {
    switch (chip) {
    case chip_kind::esp8266: return 0x4010E000;
    case chip_kind::esp32: return 0x40090000;
    case chip_kind::esp32s2: return 0x40028000;
    default: return 0x40380000;
    }
}

// MEM_BEGIN / MEM_DATA (0x1800 blocks, the last one short) / MEM_END(0, entry); MEM_END's answer.
received upload_and_run(rom_harness& h, std::uint32_t address, std::uint32_t size, std::uint32_t entry) {
    const bytes code = pattern(size, 7);
    const std::uint32_t blocks = (size + 0x17FF) / 0x1800;
    const std::size_t rom_status = h.model().chip().status_size();
    EXPECT_EQ(status_hex(h.send(0x05, words({size, blocks, 0x1800, address})), rom_status).substr(0, 4), "0000");
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        const auto from = code.begin() + seq * 0x1800;
        const bytes chunk(from, from + std::min<std::ptrdiff_t>(0x1800, code.end() - from));
        EXPECT_EQ(status_hex(h.send_block(0x07, seq, chunk), rom_status).substr(0, 4), "0000");
    }
    return h.send(0x06, words({0, entry}));
}

void start_stub(rom_harness& h) {
    h.send(0x08, sync_data());
    const auto iram = iram_of(h.model().chip().info->id);
    h.now = upload_and_run(h, iram, 0x2000, iram + 0x400).last_at;  // OHAI has arrived
    ASSERT_TRUE(h.model().stub_running());
    h.model().take_events();
}

bool has_event(std::vector<emu::rom_event> events, emu::rom_event::kind what) {
    return std::any_of(events.begin(), events.end(), [&](const auto& e) { return e.what == what; });
}

bytes stub_block_of(byte_view image, std::uint32_t seq) {
    bytes block(image.begin() + seq * stub_block, image.begin() + std::min<std::size_t>(image.size(), (seq + 1) * stub_block));
    block.resize(stub_block, 0xFF);  // FLASH_DATA is padded; the stub writes only FLASH_BEGIN's size
    return block;
}

bytes data_frame(std::uint8_t opcode, std::uint32_t seq, byte_view block) {
    return rom::slip::encode(rom::encode_request(opcode, rom::data_payload(seq, block), rom::data_checksum(block)));
}

TEST(EmulatedStub, AStubInRamGreetsWithOhaiAndAnswersWithTwoStatusBytesAndSyncValueZero) {
    for (auto chip : {chip_kind::esp8266, chip_kind::esp32, chip_kind::esp32c3}) {
        emu::timing t = instant();
        t.wire_delay = true;
        rom_harness h(chip, {}, t);
        h.send(0x08, sync_data());
        h.now += 1s;
        h.model().take_events();
        const auto iram = iram_of(chip);
        auto r = upload_and_run(h, iram, 0x2000, iram + 0x1F00);
        // MEM_END's own reply (the ROM's status), then OHAI: a bare frame, no header, a few ms later.
        ASSERT_EQ(r.raw.size(), 2u) << emu::emulated_chip(chip).name();
        ASSERT_EQ(r.responses.size(), 1u);
        EXPECT_EQ(status_hex(r, h.model().chip().status_size()).substr(0, 4), "0000");
        EXPECT_EQ(to_hex(r.raw[1].data), "c04f484149c0");
        EXPECT_EQ(r.raw[1].baud, 115200u);
        const double gap = ms_since(r.raw[0].at, r.raw[1].at);
        EXPECT_GT(gap, 1.0);
        EXPECT_LT(gap, 10.0);
        auto events = h.model().take_events();
        ASSERT_EQ(events.size(), 2u);
        EXPECT_EQ(events[0].what, emu::rom_event::kind::ram_exec);
        EXPECT_EQ(events[1].what, emu::rom_event::kind::stub_started);
        EXPECT_EQ(events[1].value, iram + 0x1F00);

        h.now += 1s;
        auto sync = h.send(0x08, sync_data());
        ASSERT_EQ(sync.responses.size(), 8u);
        for (const auto& resp : sync.responses) {
            EXPECT_EQ(resp.value, 0u);
            EXPECT_EQ(to_hex(resp.data), "0000");
        }
        auto magic = h.send(0x0A, words({0x40001000}));
        ASSERT_EQ(magic.responses.size(), 1u);
        EXPECT_EQ(magic.responses[0].value, h.model().chip().info->rom_magic.front());
        EXPECT_EQ(magic.responses[0].data.size(), stub_status);
        auto attach = h.send(0x0D, words({0}));  // the stub's 4-byte SPI_ATTACH
        EXPECT_EQ(status_hex(attach), "0000");
    }
}

TEST(EmulatedStub, AnEntryOutsideTheUploadOrQuietRamCodeLeavesTheChipSilentUntilAReset) {
    for (auto uploaded : {emu::ram_code::stub, emu::ram_code::quiet}) {
        rom_harness h(chip_kind::esp32, {}, instant(), bytes(1u << 20, 0xFF), uploaded);
        h.send(0x08, sync_data());
        const auto iram = iram_of(chip_kind::esp32);
        // stub: one past the last uploaded byte; quiet: inside, but the code never talks
        const std::uint32_t entry = uploaded == emu::ram_code::stub ? iram + 0x2000 : iram + 0x400;
        auto r = upload_and_run(h, iram, 0x2000, entry);
        EXPECT_EQ(r.frames.size(), 1u);  // MEM_END's reply, no OHAI
        auto events = h.model().take_events();
        EXPECT_TRUE(has_event(events, emu::rom_event::kind::ram_exec));
        EXPECT_FALSE(has_event(events, emu::rom_event::kind::stub_started));
        EXPECT_FALSE(h.model().stub_running());
        EXPECT_TRUE(h.send(0x08, sync_data()).responses.empty());

        h.model().boot(h.now, emu::boot_mode::download, "reset");
        auto sync = h.send(0x08, sync_data());
        ASSERT_EQ(sync.responses.size(), 8u);
        EXPECT_NE(sync.responses[0].value, 0u);
    }
}

TEST(EmulatedStub, UploadsBeyond512KiBAreRefusedWithTheRomsRamSizeError) {
    rom_harness h(chip_kind::esp32);
    h.send(0x08, sync_data());
    EXPECT_EQ(status_hex(h.send(0x05, words({0x40000, 43, 0x1800, 0x40080000})), 4), "00000000");  // all of IRAM
    EXPECT_EQ(status_hex(h.send(0x05, words({0x40001, 43, 0x1800, 0x3FFB0000})), 4), "010e0000");
    EXPECT_EQ(status_hex(h.send(0x05, words({0x40000, 43, 0x1800, 0x3FFB0000})), 4), "00000000");  // exactly 512 KiB
    // A second upload to the same address replaces the first rather than adding to it.
    EXPECT_EQ(status_hex(h.send(0x05, words({0x40000, 43, 0x1800, 0x40080000})), 4), "00000000");
}

// Issue 12 item 23: code for another chip lands outside this one's RAM; the ROM refuses to load
// it (0x0F, invalid RAM address) and to jump anywhere but its instruction RAM.
TEST(EmulatedStub, UploadsAndEntriesOutsideTheChipsRamAreRefused) {
    rom_harness h(chip_kind::esp32);
    h.send(0x08, sync_data());
    // The ESP8266 stub's text address: IRAM there, nothing on an ESP32.
    EXPECT_EQ(status_hex(h.send(0x05, words({0x2000, 2, 0x1800, iram_of(chip_kind::esp8266)})), 4), "010f0000");
    // Running over the end of a RAM region counts too.
    EXPECT_EQ(status_hex(h.send(0x05, words({0x2000, 2, 0x1800, 0x400BF000})), 4), "010f0000");
    // An entry in data RAM or flash is not run.
    EXPECT_EQ(status_hex(h.send(0x06, words({0, 0x3FFB0000})), 4), "010f0000");
    EXPECT_EQ(status_hex(h.send(0x06, words({0, 0x400D0000})), 4), "010f0000");
    EXPECT_TRUE(h.model().in_download_mode());
    EXPECT_TRUE(h.model().take_events().empty());  // no ram_exec
    for (auto chip : emu::emulated_chips()) {  // each chip's own IRAM is accepted
        rom_harness own(chip);
        own.send(0x08, sync_data());
        EXPECT_EQ(status_hex(own.send(0x05, words({0x2000, 2, 0x1800, iram_of(chip)})), own.model().chip().status_size())
                      .substr(0, 4),
                  "0000")
            << own.model().chip().name();
    }
}

TEST(EmulatedStub, AResetReturnsToTheRomAndForgetsTheUpload) {
    rom_harness h(chip_kind::esp32);
    start_stub(h);
    h.model().boot(h.now, emu::boot_mode::download, "reset");
    EXPECT_FALSE(h.model().stub_running());
    auto sync = h.send(0x08, sync_data());
    ASSERT_EQ(sync.responses.size(), 8u);
    EXPECT_NE(sync.responses[0].value, 0u);
    EXPECT_EQ(sync.responses[0].data.size(), 4u);  // the ESP32 ROM's status again
    // Nothing is uploaded any more: jumping to where the stub was is a crash.
    auto r = h.send(0x06, words({0, iram_of(chip_kind::esp32) + 0x400}));
    EXPECT_EQ(r.frames.size(), 1u);
    EXPECT_FALSE(h.model().stub_running());
}

// 64 KiB in four 16 KiB blocks at 921600 with the default (datasheet) flash timing: the stub
// acknowledges each block as soon as it has arrived, because programming the previous one (and
// the 64 KiB block erase before the first) is done before the next has crossed the wire.
TEST(EmulatedStub, BlocksAreAcknowledgedOnReceiptWhileTheFlashKeepsUp) {
    emu::timing t;  // defaults: wire delay and the W25Q32JV figures
    rom_harness h(chip_kind::esp32, {}, t);
    start_stub(h);
    h.now += 1s;
    EXPECT_EQ(status_hex(h.send(0x0F, words({921600, 115200}))), "0000");
    h.line_baud = 921600;
    h.now += 1s;
    const bytes image = pattern(0x10000, 3);
    auto begin = h.send(0x02, words({0x10000, 4, stub_block, 0x10000}));
    EXPECT_EQ(status_hex(begin), "0000");
    const std::size_t begin_wire = rom::slip::encode(rom::encode_request(0x02, words({0x10000, 4, stub_block, 0x10000}))).size();
    EXPECT_NEAR(ms_since(h.now, begin.last_at), wire_ms(begin_wire + ack_wire_bytes, 921600), 0.01);  // no erase up front
    h.now = begin.last_at;
    for (std::uint32_t seq = 0; seq < 4; ++seq) {
        const bytes frame = data_frame(0x03, seq, stub_block_of(image, seq));
        auto ack = h.send_raw(frame);
        ASSERT_EQ(status_hex(ack), "0000") << seq;
        EXPECT_NEAR(ms_since(h.now, ack.last_at), wire_ms(frame.size() + ack_wire_bytes, 921600), 0.01) << seq;
        h.now = ack.last_at;
    }
    // FLASH_END is the barrier: answered once the last block (64 pages, 25.6 ms) is programmed.
    auto end = h.send(0x04, words({1}));
    EXPECT_EQ(status_hex(end), "0000");
    EXPECT_NEAR(ms_since(h.now, end.last_at), 64 * 0.4, 0.01);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), h.model().flash().begin() + 0x10000));

    h.now = end.last_at;
    auto md5_reply = h.send(0x13, words({0x10000, 0x10000, 0, 0}));
    ASSERT_EQ(md5_reply.responses.size(), 1u);
    const auto expected = md5(image);
    EXPECT_EQ(to_hex(md5_reply.responses[0].data), to_hex(expected) + "0000");  // 16 raw bytes, then the status
}

// With slow-flash (10x: a 64 KiB block erase takes 1.5 s, a 16 KiB block 256 ms to program) the
// wire is faster than the flash, and each acknowledgement waits for the previous block's work. The
// erase starts when FLASH_BEGIN arrives (the stub erases ahead, in the background), so block 0
// waits for what is left of it.
TEST(EmulatedStub, SlowFlashDelaysTheNextAcknowledgementByThePreviousBlocksEraseAndProgram) {
    emu::fault_set f;
    f.slow_flash = true;
    rom_harness h(chip_kind::esp32, f, emu::timing{});
    start_stub(h);
    h.now += 1s;
    h.send(0x0F, words({921600, 115200}));
    h.line_baud = 921600;
    h.now += 1s;
    const bytes image = pattern(0x10000, 4);
    const emu::time_point begun = h.send(0x02, words({0x10000, 4, stub_block, 0x20000})).last_at;
    h.now = begun;
    std::vector<emu::time_point> acks;
    for (std::uint32_t seq = 0; seq < 4; ++seq) {
        auto ack = h.send_raw(data_frame(0x03, seq, stub_block_of(image, seq)));
        ASSERT_EQ(status_hex(ack), "0000") << seq;
        acks.push_back(ack.last_at);
        h.now = ack.last_at;
    }
    // From FLASH_BEGIN's reply to block 1's (replies of the same length): the block erase begun
    // then, and block 0's program.
    EXPECT_NEAR(ms_since(begun, acks[1]), 1500 + 256, 0.01);
    EXPECT_NEAR(ms_since(acks[1], acks[2]), 256, 0.01);         // block 1: already erased
    EXPECT_NEAR(ms_since(acks[2], acks[3]), 256, 0.01);
    auto end = h.send(0x04, words({1}));
    EXPECT_NEAR(ms_since(acks[3], end.last_at), 256, 0.01);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), h.model().flash().begin() + 0x20000));
}

// The stub erases ahead of its writes, unit by unit: a 64 KiB block erase where a block boundary starts at
// least 16 sectors still to erase, else a sector. With erase_counting() FLASH_END's reply time
// counts the erases; flash outside the range keeps its bytes.
TEST(EmulatedStub, TheStubErasesAsItWritesInBlocksWhereAlignedAndSectorsElsewhere) {
    const emu::timing t = erase_counting();
    for (const auto& c : {erase_case{0x10000, 0x10000, 2},          // one block
                          erase_case{0x11000, 0x10000, 16},         // never aligned with 16 left: 16 sectors
                          erase_case{0x8000, 0x20000, 8 + 2 + 8},   // sectors, a block, sectors
                          erase_case{0x30000, 0x5000, 5},           // 20 KiB: 5 sectors
                          erase_case{0x40000, 0x10001, 2 + 1}}) {   // one byte into the next block: a sector
        rom_harness h(chip_kind::esp32, {}, t, bytes(1u << 20, 0x00));
        start_stub(h);
        const bytes image = pattern(c.size, 5);
        const std::uint32_t blocks = (c.size + stub_block - 1) / stub_block;
        ASSERT_EQ(status_hex(h.send(0x02, words({c.size, blocks, stub_block, c.offset}))), "0000");
        for (std::uint32_t seq = 0; seq < blocks; ++seq)
            ASSERT_EQ(status_hex(h.send_raw(data_frame(0x03, seq, stub_block_of(image, seq)))), "0000");
        auto end = h.send(0x04, words({1}));
        EXPECT_EQ(status_hex(end), "0000");
        EXPECT_NEAR(ms_since(h.now, end.last_at), c.seconds * 1000, 0.01) << std::hex << c.offset << "+" << c.size;
        const auto& flash = h.model().flash();
        EXPECT_TRUE(std::equal(image.begin(), image.end(), flash.begin() + c.offset));
        EXPECT_EQ(flash[c.offset - 1], 0x00);  // before the range: untouched
        // After it: the rest of the last sector is erased (whole sectors only), beyond that untouched.
        const std::uint32_t end_of_sector = (c.offset + c.size + 0xFFF) / 0x1000 * 0x1000;
        if (end_of_sector > c.offset + c.size) {
            EXPECT_EQ(flash[c.offset + c.size], 0xFF);
        }
        EXPECT_EQ(flash[end_of_sector], 0x00);
    }
}

// The ESP8266 ROM has no deflate; its stub does (§9.4), with exact sizes and unpadded blocks.
TEST(EmulatedStub, DeflateWritesThroughTheStubOnEsp8266) {
    rom_harness h(chip_kind::esp8266);
    h.send(0x08, sync_data());
    EXPECT_EQ(status_hex(h.send(0x10, words({0x8000, 1, 0x400, 0}))), "0105");  // the ROM: invalid message
    start_stub(h);
    bytes image = pattern(20000, 9);
    image.resize(40003, 0x00);  // compressible, and not a multiple of 4
    const bytes z = zlib_compress(image);
    const std::uint32_t blocks = static_cast<std::uint32_t>((z.size() + stub_block - 1) / stub_block);
    ASSERT_GE(blocks, 2u);
    ASSERT_EQ(status_hex(h.send(0x10, words({static_cast<std::uint32_t>(image.size()), blocks, stub_block, 0x20000}))), "0000");
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        const bytes block(z.begin() + seq * stub_block, z.begin() + std::min<std::size_t>(z.size(), (seq + 1) * stub_block));
        ASSERT_EQ(status_hex(h.send_block(0x11, seq, block)), "0000") << seq;
    }
    EXPECT_EQ(status_hex(h.send(0x12, words({1}))), "0000");
    EXPECT_TRUE(std::equal(image.begin(), image.end(), h.model().flash().begin() + 0x20000));
    auto written = h.model().take_events();
    ASSERT_TRUE(has_event(written, emu::rom_event::kind::flash_written));
    auto md5_reply = h.send(0x13, words({0x20000, static_cast<std::uint32_t>(image.size()), 0, 0}));
    ASSERT_EQ(md5_reply.responses.size(), 1u);
    EXPECT_EQ(to_hex(md5_reply.responses[0].data), to_hex(md5(image)) + "0000");
}

TEST(EmulatedStub, ChangeBaudrateWorksOnEsp8266WithTheStub) {
    rom_harness h(chip_kind::esp8266);
    h.send(0x08, sync_data());
    EXPECT_EQ(status_hex(h.send(0x0F, words({921600, 0}))), "0105");  // not in the ESP8266 ROM
    start_stub(h);
    auto r = h.send(0x0F, words({921600, 115200}));
    EXPECT_EQ(status_hex(r), "0000");
    ASSERT_FALSE(r.raw.empty());
    EXPECT_EQ(r.raw.back().baud, 115200u);  // the reply at the old rate, then the switch
    auto events = h.model().take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].what, emu::rom_event::kind::baud_changed);
    EXPECT_EQ(events[0].value, 921600u);
    h.line_baud = 921600;
    auto reg = h.send(0x0A, words({0x40001000}));
    ASSERT_EQ(reg.responses.size(), 1u);
    EXPECT_EQ(reg.raw.back().baud, 921600u);
    EXPECT_EQ(reg.responses[0].value, h.model().chip().info->rom_magic.front());
}

// The stub acknowledges a block before it writes it, so a write that fails is told in the reply
// to the next command (next block or FLASH_END), and every later one, until a new FLASH_BEGIN.
TEST(EmulatedStub, AWriteFailureSurfacesInTheNextReply) {
    emu::fault_set f;
    f.status_error_once_blocks = {1};
    rom_harness h(chip_kind::esp32, f);
    start_stub(h);
    const bytes image = pattern(0x10000, 6);
    ASSERT_EQ(status_hex(h.send(0x02, words({0x10000, 4, stub_block, 0}))), "0000");
    EXPECT_EQ(status_hex(h.send_raw(data_frame(0x03, 0, stub_block_of(image, 0)))), "0000");
    EXPECT_EQ(status_hex(h.send_raw(data_frame(0x03, 1, stub_block_of(image, 1)))), "0000");  // its write fails
    EXPECT_EQ(status_hex(h.send_raw(data_frame(0x03, 2, stub_block_of(image, 2)))), "01c4");  // ... told here
    EXPECT_EQ(status_hex(h.send(0x04, words({1}))), "01c4");
    // Starting again clears it; the once-fault is used up.
    ASSERT_EQ(status_hex(h.send(0x02, words({0x10000, 4, stub_block, 0}))), "0000");
    for (std::uint32_t seq = 0; seq < 4; ++seq)
        EXPECT_EQ(status_hex(h.send_raw(data_frame(0x03, seq, stub_block_of(image, seq)))), "0000") << seq;
    EXPECT_EQ(status_hex(h.send(0x04, words({1}))), "0000");
    EXPECT_TRUE(std::equal(image.begin(), image.end(), h.model().flash().begin()));
}

TEST(EmulatedStub, SilentAfterBlockAppliesToTheStub) {
    emu::fault_set f;
    f.silent_after_block = 0;
    rom_harness h(chip_kind::esp32, f);
    start_stub(h);
    ASSERT_EQ(status_hex(h.send(0x02, words({0x8000, 2, stub_block, 0}))), "0000");
    EXPECT_EQ(status_hex(h.send_raw(data_frame(0x03, 0, bytes(stub_block, 0x11)))), "0000");
    EXPECT_TRUE(h.send_raw(data_frame(0x03, 1, bytes(stub_block, 0x22))).raw.empty());
}

// A malformed block is refused in its own reply with the stub's codes, and the transfer goes on.
TEST(EmulatedStub, MalformedBlocksAreRefusedInTheirOwnReply) {
    rom_harness h(chip_kind::esp32c3);
    start_stub(h);
    EXPECT_EQ(status_hex(h.send_raw(data_frame(0x03, 0, bytes(stub_block, 0x33)))), "01c6");  // no FLASH_BEGIN yet
    ASSERT_EQ(status_hex(h.send(0x02, words({0x8000, 2, stub_block, 0x1000, 0}))), "0000");  // 20 bytes: fine too
    const bytes block(stub_block, 0x33);
    EXPECT_EQ(status_hex(h.send(0x03, rom::data_payload(0, block), rom::data_checksum(block) ^ 1)), "01c1");
    bytes lying = rom::data_payload(0, block);
    lying[0] ^= 0x01;  // the header's length word disagrees with what arrived
    EXPECT_EQ(status_hex(h.send(0x03, lying, rom::data_checksum(block))), "01c0");
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, bytes(0x3000, 0x33))), "01c2");  // not padded to the block size
    EXPECT_EQ(status_hex(h.send_block(0x03, 1, block)), "01c3");                  // out of order
    EXPECT_EQ(status_hex(h.send(0x04, words({1}))), "01c8");                       // nothing written yet
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, block)), "0000");
    EXPECT_EQ(status_hex(h.send_block(0x03, 1, block)), "0000");
    EXPECT_EQ(status_hex(h.send(0x04, words({1}))), "0000");
    EXPECT_EQ(status_hex(h.send(0x02, words({0x1000, 1, 0x8000, 0}))), "01c2");  // blocks above 16 KiB
}

TEST(EmulatedStub, CommandsTheStubLacksAreNotImplemented) {
    rom_harness h(chip_kind::esp32s3);
    start_stub(h);
    for (std::uint8_t op : {0x0E, 0x05, 0x42}) {
        bytes payload = op == 0x0E ? words({0, 64}) : op == 0x05 ? words({0x100, 1, 0x1800, 0x40380000}) : bytes{};
        auto r = h.send(op, payload);
        ASSERT_EQ(r.responses.size(), 1u) << int(op);
        EXPECT_EQ(r.responses[0].opcode, op);
        EXPECT_EQ(to_hex(r.responses[0].data), "01ff") << int(op);
    }
    // §2 table: GET_SECURITY_INFO is a stub command on the chips whose ROM has it (S2 and later).
    auto security = h.send(0x14, {});
    ASSERT_EQ(security.responses.size(), 1u);
    EXPECT_EQ(security.responses[0].data.size(), 20u + 2);
    EXPECT_EQ(load_le32(security.responses[0].data.data() + 12), 9u);  // the S3's chip id
}

// FLASH_END(0): the stub answers, waits 10 ms and resets itself; strapped for download, the ROM
// comes back.
TEST(EmulatedStub, FlashEndZeroResetsIntoTheRom) {
    emu::timing t = instant();
    t.wire_delay = true;
    rom_harness h(chip_kind::esp32, {}, t);
    start_stub(h);
    h.now += 1s;
    ASSERT_EQ(status_hex(h.send(0x02, words({0, 0, stub_block, 0}))), "0000");
    h.now += 1s;
    auto r = h.send(0x04, words({0}));
    ASSERT_EQ(r.responses.size(), 1u);
    EXPECT_EQ(to_hex(r.responses[0].data), "0000");
    ASSERT_EQ(r.raw.size(), 2u);  // the reply, then the ROM's boot banner
    EXPECT_NE(std::string(r.raw[1].data.begin(), r.raw[1].data.end()).find("waiting for download"), std::string::npos);
    EXPECT_GE(ms_since(r.raw[0].at, r.raw[1].at), 10.0);
    auto events = h.model().take_events();
    ASSERT_TRUE(has_event(events, emu::rom_event::kind::booted));
    EXPECT_FALSE(h.model().stub_running());
    h.now += 1s;
    auto sync = h.send(0x08, sync_data());
    ASSERT_EQ(sync.responses.size(), 8u);
    EXPECT_NE(sync.responses[0].value, 0u);
}

TEST(EmulatedStub, EraseRegionAndEraseFlash) {
    emu::timing t = instant();
    t.erase_bytes_per_s = emu::timing{}.erase_bytes_per_s;
    t.block_erase_bytes_per_s = emu::timing{}.block_erase_bytes_per_s;
    rom_harness h(chip_kind::esp32, {}, t, bytes(1u << 20, 0x00));
    start_stub(h);
    auto region = h.send(0xD1, words({0xF000, 0x12000}));  // a sector, a block, a sector
    EXPECT_EQ(status_hex(region), "0000");
    EXPECT_NEAR(ms_since(h.now, region.last_at), 45 + 150 + 45, 0.01);
    const auto& flash = h.model().flash();
    EXPECT_EQ(flash[0xEFFF], 0x00);
    EXPECT_TRUE(std::all_of(flash.begin() + 0xF000, flash.begin() + 0x21000, [](auto b) { return b == 0xFF; }));
    EXPECT_EQ(flash[0x21000], 0x00);
    EXPECT_EQ(status_hex(h.send(0xD1, words({0x1800, 0x1000}))), "01c0");  // not sector-aligned
    h.now += 10s;
    auto chip = h.send(0xD0, {});
    EXPECT_EQ(status_hex(chip), "0000");
    EXPECT_NEAR(ms_since(h.now, chip.last_at), 16 * 150, 0.01);  // 1 MiB: sixteen block erases
    EXPECT_TRUE(std::all_of(flash.begin(), flash.end(), [](auto b) { return b == 0xFF; }));
}

// READ_FLASH (§2.1): the reply, then raw frames of packet_size bytes, at most max_in_flight
// unacknowledged; the host acknowledges each with the running total; the MD5 comes last.
TEST(EmulatedStub, ReadFlashStreamsFramesAgainstAcknowledgementsAndEndsWithTheMd5) {
    bytes flash = pattern(1u << 20, 8);
    rom_harness h(chip_kind::esp32, {}, instant(), flash);
    start_stub(h);
    const auto slice = [&](std::uint32_t from, std::uint32_t n) { return bytes(flash.begin() + from, flash.begin() + from + n); };
    auto r = h.send(0xD2, words({0x3000, 0x2800, 0x1000, 2}));
    ASSERT_EQ(r.frames.size(), 3u);
    EXPECT_EQ(to_hex(r.frames[0]), to_hex(rom::encode_response(0xD2, 0, bytes{0, 0})));
    EXPECT_EQ(r.frames[1], slice(0x3000, 0x1000));
    EXPECT_EQ(r.frames[2], slice(0x4000, 0x1000));
    auto ack = [&](std::uint32_t total) { return h.send_raw(rom::slip::encode(words({total}))); };
    auto third = ack(0x1000);
    ASSERT_EQ(third.frames.size(), 1u);
    EXPECT_EQ(third.frames[0], slice(0x5000, 0x800));  // the last frame is short
    EXPECT_TRUE(ack(0x2000).frames.empty());
    auto digest = ack(0x2800);
    ASSERT_EQ(digest.frames.size(), 1u);
    const auto expected = md5(slice(0x3000, 0x2800));
    EXPECT_EQ(to_hex(digest.frames[0]), to_hex(expected));
    EXPECT_EQ(h.send(0x0A, words({0x40001000})).responses.size(), 1u);  // back to commands
}

}  // namespace
