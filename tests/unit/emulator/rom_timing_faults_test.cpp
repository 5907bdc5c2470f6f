// The emulated ROM's wire-time and flash-time models and its injected faults, with time as a
// parameter (ROM_DEVICE_CONTRACT.md "Faults"; rom-bootloader.md §9.1).

#include "rom_model_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::test;
using emu::chip_kind;
using namespace std::chrono_literals;

namespace {

emu::timing wire_only() {
    emu::timing t = instant();
    t.wire_delay = true;
    return t;
}

double ms_since(emu::time_point from, emu::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

bytes block_of(std::uint8_t value) { return bytes(0x400, value); }

// 8N1: 10 bit times per byte. A FLASH_DATA frame of 1 KiB is 1050 bytes on the wire (no escapes
// here) and its 14-byte reply 14 more: at 115200 that is 1064 * 10 / 115200 s.
TEST(RomTiming, WireTimeIsTenBitsPerByteAtTheLineRate) {
    for (std::uint32_t baud : {115200u, 921600u}) {
        rom_harness h(chip_kind::esp32, {}, wire_only());
        h.connect();
        h.send(0x0F, words({baud, 0}));
        h.line_baud = baud;
        h.flash_begin(0x400, 1, 0x400, 0);
        h.now += 10s;  // everything before has long crossed the wire
        auto r = h.send_block(0x03, 0, block_of(0x11));
        ASSERT_EQ(r.responses.size(), 1u);
        const double expected = 1064.0 * 10 / baud * 1000;
        EXPECT_NEAR(ms_since(h.now, r.last_at), expected, 0.01) << baud;
    }
}

// Bytes sent back to back queue on the wire, in each direction: two SYNCs (46 bytes each, 8
// replies of 14 bytes each) at once: the second arrives after 92 bytes, and its replies wait until
// the first eight have gone out (46 + 112 bytes), ending after 270 byte times.
TEST(RomTiming, BytesQueueOnTheWireInBothDirections) {
    rom_harness h(chip_kind::esp32, {}, wire_only());
    h.now += 10s;
    bytes two = rom::slip::encode(rom::encode_request(0x08, sync_data()));
    const bytes one = two;
    two.insert(two.end(), one.begin(), one.end());
    auto r = h.send_raw(two);
    ASSERT_EQ(r.raw.size(), 2u);
    const double byte_ms = 10.0 / 115200 * 1000;
    EXPECT_NEAR(ms_since(h.now, r.raw[0].at), (46 + 112) * byte_ms, 0.01);
    EXPECT_NEAR(ms_since(h.now, r.raw[1].at), (46 + 112 + 112) * byte_ms, 0.01);
}

// FLASH_BEGIN erases the whole range before it answers; each FLASH_DATA is programmed before its
// answer. Defaults (W25Q32JV): 150 ms per 64 KiB block erase, 0.4 ms per 256-byte page;
// slow-flash is ten times slower.
TEST(RomTiming, EraseAndWriteTimeDelayTheReplies) {
    for (bool slow : {false, true}) {
        emu::fault_set faults;
        faults.slow_flash = slow;
        emu::timing t;
        t.wire_delay = false;
        rom_harness h(chip_kind::esp32, faults, t);
        h.connect();
        h.now += 10s;
        auto begin = h.flash_begin(0x10000, 64, 0x400, 0);
        const double factor = slow ? 10 : 1;
        EXPECT_NEAR(ms_since(h.now, begin.last_at), 150 * factor, 0.01);  // one 64 KiB block erase
        h.now += 60s;
        auto data = h.send_block(0x03, 0, block_of(0x22));
        EXPECT_NEAR(ms_since(h.now, data.last_at), 4 * 0.4 * factor, 0.01);  // four pages
    }
}

// The ROM's SPIEraseArea: 4 KiB sectors up to a 64 KiB boundary, 64 KiB blocks while at least 16
// sectors remain, sectors for the rest (erase_counting: 1 s per sector, 2 s per block).
TEST(RomTiming, RomEraseUsesBlocksBetweenBoundariesAndSectorsAtTheEnds) {
    const emu::timing t = erase_counting();
    for (const auto& c : {erase_case{0x8000, 0x20000, 8 + 2 + 8},  // 8 sectors, a block, 8 sectors
                          erase_case{0x10000, 0x10000, 2},         // exactly one block
                          erase_case{0x10000, 0x1F000, 2 + 15},    // a block; 15 sectors cannot make one
                          erase_case{0x1000, 0x3000, 3}}) {        // small: sectors only
        rom_harness h(chip_kind::esp32, {}, t);
        h.connect();
        auto begin = h.flash_begin(c.size, c.size / 0x400, 0x400, c.offset);
        EXPECT_NEAR(ms_since(h.now, begin.last_at), c.seconds * 1000, 0.01) << std::hex << c.offset << "+" << c.size;
    }
}

TEST(RomTiming, ACommandWaitsForTheRomToFinishThePreviousOne) {
    emu::timing t;
    t.wire_delay = false;
    rom_harness h(chip_kind::esp32, {}, t);
    h.connect();
    h.now += 10s;
    auto begin = h.flash_begin(0x10000, 64, 0x400, 0);  // busy erasing for ~533 ms
    auto reg = h.send(0x0A, words({0x40001000}));       // arrives meanwhile
    EXPECT_GE(reg.last_at, begin.last_at);
}

TEST(RomFaults, NoSyncNeverAnswersSync) {
    emu::fault_set f;
    f.no_sync = true;
    rom_harness h(chip_kind::esp32, f);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(h.send(0x08, sync_data()).responses.empty());
    EXPECT_EQ(h.send(0x0A, words({0x40001000})).responses.size(), 1u);
}

TEST(RomFaults, BootNoiseComesBeforeTheFirstSyncReplyOnly) {
    emu::fault_set f;
    f.boot_noise = true;
    rom_harness h(chip_kind::esp32, f);
    auto r = h.send(0x08, sync_data());
    ASSERT_EQ(r.raw.size(), 2u);
    const std::string noise(r.raw[0].data.begin(), r.raw[0].data.end());
    EXPECT_NE(noise.find("waiting for download"), std::string::npos);
    EXPECT_EQ(noise.find('\xC0'), std::string::npos);
    EXPECT_EQ(r.responses.size(), 8u);
    EXPECT_EQ(h.send(0x08, sync_data()).raw.size(), 1u);
}

TEST(RomFaults, Esp8266BootNoiseIsAt74880Baud) {
    emu::fault_set f;
    f.boot_noise = true;
    rom_harness h(chip_kind::esp8266, f);
    auto r = h.send(0x08, sync_data());
    ASSERT_EQ(r.raw.size(), 2u);
    EXPECT_EQ(r.raw[0].baud, 74880u);  // a host at 115200 sees junk, as with a real ESP8266
    EXPECT_EQ(r.raw[1].baud, 115200u);
}

TEST(RomFaults, GarbageGoesBetweenRepliesAndTheRepliesStillDecode) {
    emu::fault_set f;
    f.garbage = true;
    rom_harness h(chip_kind::esp32, f);
    auto r = h.send(0x08, sync_data());
    EXPECT_EQ(r.responses.size(), 8u);
    EXPECT_GE(r.noise.size(), 8u);
    EXPECT_EQ(std::count(r.noise.begin(), r.noise.end(), std::uint8_t{0xC0}), 0);
}

TEST(RomFaults, StatusErrorOnBlockFailsEveryTimeAndOnceOnlyOnce) {
    emu::fault_set f;
    f.status_error_blocks = {1};
    f.status_error_once_blocks = {2};
    rom_harness h(chip_kind::esp32, f);
    h.connect();
    h.flash_begin(0x1000, 4, 0x400, 0);
    EXPECT_EQ(to_hex(h.send_block(0x03, 0, block_of(1)).responses[0].data), "00000000");
    for (int attempt = 0; attempt < 3; ++attempt)
        EXPECT_EQ(to_hex(h.send_block(0x03, 1, block_of(2)).responses[0].data), "01080000");

    rom_harness once(chip_kind::esp32, f);
    once.connect();
    once.flash_begin(0x1000, 4, 0x400, 0);
    once.send_block(0x03, 0, block_of(1));
    f.status_error_blocks.clear();
    EXPECT_EQ(to_hex(once.send_block(0x03, 1, block_of(2)).responses[0].data), "01080000");
}

TEST(RomFaults, StatusErrorOnceLetsTheRetrySucceed) {
    emu::fault_set f;
    f.status_error_once_blocks = {2};
    rom_harness h(chip_kind::esp32, f);
    h.connect();
    h.flash_begin(0x1000, 4, 0x400, 0);
    for (std::uint32_t seq = 0; seq < 2; ++seq) h.send_block(0x03, seq, block_of(3));
    EXPECT_EQ(to_hex(h.send_block(0x03, 2, block_of(3)).responses[0].data), "01080000");
    EXPECT_EQ(to_hex(h.send_block(0x03, 2, block_of(3)).responses[0].data), "00000000");
}

TEST(RomFaults, SilentAfterBlockAnswersThatBlockThenNothing) {
    emu::fault_set f;
    f.silent_after_block = 1;
    rom_harness h(chip_kind::esp32, f);
    h.connect();
    h.flash_begin(0x1000, 4, 0x400, 0);
    EXPECT_EQ(h.send_block(0x03, 0, block_of(4)).responses.size(), 1u);
    EXPECT_EQ(h.send_block(0x03, 1, block_of(4)).responses.size(), 1u);
    EXPECT_TRUE(h.send_block(0x03, 2, block_of(4)).responses.empty());
    EXPECT_TRUE(h.send(0x08, sync_data()).responses.empty());
    // A reset brings it back.
    h.model().hold_in_reset(h.now);
    h.model().boot(h.now, emu::boot_mode::download, "reset");
    h.collect();
    EXPECT_EQ(h.send(0x08, sync_data()).responses.size(), 8u);
}

// The ROM's own read-back check passes, so the block is acknowledged; only an MD5 of the flash
// shows the damage.
TEST(RomFaults, FlipByteIsCaughtOnlyByMd5) {
    emu::fault_set f;
    f.flip_bytes = {0x1234};
    rom_harness h(chip_kind::esp32, f);
    h.connect();
    h.flash_begin(0x2000, 8, 0x400, 0x1000);
    for (std::uint32_t seq = 0; seq < 8; ++seq)
        EXPECT_EQ(to_hex(h.send_block(0x03, seq, block_of(0x5A)).responses[0].data), "00000000");
    EXPECT_EQ(h.model().flash()[0x1234], 0xA5);
    auto r = h.send(0x13, words({0x1000, 0x2000, 0, 0}));
    const std::string device_md5(r.responses[0].data.begin(), r.responses[0].data.begin() + 32);
    EXPECT_NE(device_md5, to_hex(md5(bytes(0x2000, 0x5A))));
}

TEST(RomFaults, ParsingFaultSpecs) {
    emu::fault_set f;
    EXPECT_TRUE(emu::add_fault("no-sync", f).ok());
    EXPECT_TRUE(emu::add_fault("status-error-on-block=3", f).ok());
    EXPECT_TRUE(emu::add_fault("flip-byte=0x1000", f).ok());
    EXPECT_TRUE(emu::add_fault("silent-after-block=7", f).ok());
    EXPECT_TRUE(f.no_sync);
    EXPECT_EQ(f.status_error_blocks, std::vector<std::uint32_t>{3});
    EXPECT_EQ(f.flip_bytes, std::vector<std::uint32_t>{0x1000});
    EXPECT_EQ(f.silent_after_block, 7u);
    for (auto bad : {"no-sync=1", "status-error-on-block", "status-error-on-block=x", "flip-byte=-1", "teleport"}) {
        auto r = emu::add_fault(bad, f);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, errc::usage_error);
        EXPECT_NE(r.error().message.find(bad), std::string::npos);
    }
}

TEST(RomBoot, AppModeIgnoresTheProtocolAndPrintsItsLog) {
    rom_harness h(chip_kind::esp32c3);
    h.model().hold_in_reset(h.now);
    h.model().boot(h.now, emu::boot_mode::app, "reset");
    auto banner = h.collect();
    EXPECT_NE(std::string(banner.noise.begin(), banner.noise.end()).find("SPI_FAST_FLASH_BOOT"), std::string::npos);
    EXPECT_TRUE(h.send(0x08, sync_data()).responses.empty());
    ASSERT_TRUE(h.model().next_wakeup());
    h.model().poll(*h.model().next_wakeup());
    auto tick = h.collect();
    EXPECT_NE(std::string(tick.noise.begin(), tick.noise.end()).find("app:"), std::string::npos);
    auto events = h.model().take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].mode, emu::boot_mode::app);
}

}  // namespace
