// Writing flash through the emulated ROM: blocks, checksums, sequence, erase (including the
// ESP8266 erase-size bug), NOR programming, deflate (rom-bootloader.md §1.4, §2.1, §4.2).

#include "rom_model_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/proto/rom/command.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::test;
using emu::chip_kind;

namespace {

// The erase_size esptool's workaround sends for `size` bytes at `offset` (§4.2), as the host computes it.
std::uint32_t erase_workaround(std::uint32_t size, std::uint32_t offset) { return rom::esp8266_erase_size(offset, size); }

std::string status_hex(const received& r, std::size_t len = 4) {
    if (r.responses.empty()) return "no reply";
    return to_hex(status_of(r.responses.back(), len));
}

// Writes `data` at `offset` as esptool does in ROM mode: 1 KiB blocks, the last padded with 0xFF.
void write_plain(rom_harness& h, std::uint32_t offset, byte_view data, std::uint32_t erase_size) {
    const std::uint32_t blocks = static_cast<std::uint32_t>((data.size() + 0x3FF) / 0x400);
    ASSERT_EQ(status_hex(h.flash_begin(erase_size, blocks, 0x400, offset), h.model().chip().status_size()).substr(0, 4), "0000");
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        bytes block(data.begin() + seq * 0x400, data.begin() + std::min<std::size_t>(data.size(), (seq + 1) * 0x400));
        block.resize(0x400, 0xFF);
        auto r = h.send_block(0x03, seq, block);
        ASSERT_EQ(status_hex(r, h.model().chip().status_size()).substr(0, 4), "0000") << "block " << seq;
    }
}

TEST(RomFlash, PlainWriteLandsByteForByteAndReportsItsMd5) {
    for (auto chip : {chip_kind::esp8266, chip_kind::esp32, chip_kind::esp32c3}) {
        rom_harness h(chip);
        h.connect();
        const bytes image = pattern(5000, 1);
        write_plain(h, 0x10000, image, 5000);
        bytes expected = image;
        expected.resize(5 * 0x400, 0xFF);
        EXPECT_EQ(bytes(h.model().flash().begin() + 0x10000, h.model().flash().begin() + 0x10000 + expected.size()), expected);
        const auto events = h.model().take_events();
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].what, emu::rom_event::kind::flash_written);
        EXPECT_EQ(events[0].offset, 0x10000u);
        EXPECT_EQ(events[0].size, 5u * 0x400);
        EXPECT_EQ(events[0].md5, to_hex(md5(expected)));
    }
}

// §1.4: checksum = 0xEF XOR every data byte; a wrong one fails with 0x07 and writes nothing.
TEST(RomFlash, BadChecksumFailsWith0x07) {
    rom_harness h(chip_kind::esp32);
    h.connect();
    h.flash_begin(0x400, 1, 0x400, 0);
    bytes block = pattern(0x400, 2);
    auto r = h.send(0x03, rom::data_payload(0, block), rom::data_checksum(block) ^ 0x01);
    EXPECT_EQ(status_hex(r), "01070000");
    EXPECT_EQ(h.model().flash()[0], 0xFF);
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, block)), "00000000");
    EXPECT_EQ(h.model().flash()[0], block[0]);
}

TEST(RomFlash, DataHeaderLengthMustMatchAndLastBlockMustBePadded) {
    rom_harness h(chip_kind::esp32);
    h.connect();
    h.flash_begin(0x800, 2, 0x400, 0);
    bytes block = pattern(0x400, 3);
    bytes lying = rom::data_payload(0, block);
    lying[0] = 0xFF;  // header length disagrees with the payload
    EXPECT_EQ(status_hex(h.send(0x03, lying, rom::data_checksum(block))), "01050000");
    const bytes short_block(block.begin(), block.begin() + 100);
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, short_block)), "01050000");
}

// Blocks must come in order; the same block again (a retry after a lost reply) rewrites it.
TEST(RomFlash, SequenceErrorsAndRetransmissions) {
    rom_harness h(chip_kind::esp32);
    h.connect();
    h.flash_begin(0xC00, 3, 0x400, 0);
    const bytes b0 = pattern(0x400, 4), b1 = pattern(0x400, 5);
    EXPECT_EQ(status_hex(h.send_block(0x03, 1, b1)), "01050000");  // skipped block 0
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, b0)), "00000000");
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, b0)), "00000000");  // retransmission: same bytes
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, b1)), "01080000");  // different bytes over programmed flash
    EXPECT_EQ(status_hex(h.send_block(0x03, 1, b1)), "00000000");
    EXPECT_EQ(status_hex(h.send_block(0x03, 5, b1)), "01050000");  // beyond the announced blocks
    EXPECT_EQ(status_hex(h.send_block(0x03, 1, b1, 115200)), "00000000");
}

TEST(RomFlash, DataWithoutBeginFailsToAct) {
    rom_harness h(chip_kind::esp32);
    h.connect();
    EXPECT_EQ(status_hex(h.send_block(0x03, 0, pattern(0x400, 6))), "01060000");
    EXPECT_EQ(status_hex(h.send_block(0x11, 0, pattern(0x40, 6))), "01060000");
}

// NOR flash: programming only clears bits, and the ROM reads back before answering. A host that
// erases too little therefore gets 0x08 where old data remains.
TEST(RomFlash, WritingOverUnerasedFlashFailsTheReadBack) {
    bytes flash(1u << 20, 0xFF);
    std::fill(flash.begin() + 0x1000, flash.begin() + 0x2000, 0x00);
    rom_harness h(chip_kind::esp32, {}, instant(), flash);
    h.connect();
    // Erase only the first sector, then write two.
    h.flash_begin(0x1000, 8, 0x400, 0);
    for (std::uint32_t seq = 0; seq < 4; ++seq) EXPECT_EQ(status_hex(h.send_block(0x03, seq, pattern(0x400, 7))), "00000000");
    EXPECT_EQ(status_hex(h.send_block(0x03, 4, pattern(0x400, 8))), "01080000");
}

// §4.2: the ESP8266 ROM erases more than FLASH_BEGIN asks. The emulator erases exactly what the
// buggy ROM would (head sectors up to the next 64 KiB boundary counted twice), so a host that
// passes the plain size wipes the neighbouring data, and esptool's workaround value erases just
// the image's sectors.
TEST(RomFlash, Esp8266EraseSizeBug) {
    bytes flash(1u << 20, 0xFF);
    const bytes neighbour = pattern(0x4000, 9);  // e.g. a config sector right after the image
    std::copy(neighbour.begin(), neighbour.end(), flash.begin() + 0x4000);
    const bytes image = pattern(0x4000, 10);

    {   // naive host: erase_size = 16 KiB at 0 -> the ROM erases 32 KiB, the neighbour is gone
        rom_harness h(chip_kind::esp8266, {}, instant(), flash);
        h.connect();
        write_plain(h, 0, image, 0x4000);
        EXPECT_EQ(bytes(h.model().flash().begin(), h.model().flash().begin() + 0x4000), image);
        EXPECT_EQ(bytes(h.model().flash().begin() + 0x4000, h.model().flash().begin() + 0x8000), bytes(0x4000, 0xFF))
            << "over-erased: the 16 KiB after the image were wiped";
    }
    {   // esptool's workaround: erase_size 0x2000 -> exactly 16 KiB erased, neighbour intact
        EXPECT_EQ(erase_workaround(0x4000, 0), 0x2000u);
        rom_harness h(chip_kind::esp8266, {}, instant(), flash);
        h.connect();
        write_plain(h, 0, image, erase_workaround(0x4000, 0));
        EXPECT_EQ(bytes(h.model().flash().begin(), h.model().flash().begin() + 0x4000), image);
        EXPECT_EQ(bytes(h.model().flash().begin() + 0x4000, h.model().flash().begin() + 0x8000), neighbour);
    }
    {   // an ESP32 ROM has no such bug: the workaround value there erases too little and the
        // write fails where old data remained
        bytes used(1u << 20, 0x00);
        rom_harness h(chip_kind::esp32, {}, instant(), used);
        h.connect();
        h.flash_begin(erase_workaround(0x4000, 0), 16, 0x400, 0);
        std::string last;
        for (std::uint32_t seq = 0; seq < 16 && last != "01080000"; ++seq) last = status_hex(h.send_block(0x03, seq, pattern(0x400, 11)));
        EXPECT_EQ(last, "01080000");
    }
}

// §4.2 worked examples of esptool's workaround, and that the modelled ROM then erases what is needed.
TEST(RomFlash, Esp8266WorkaroundExamplesCoverTheImage) {
    const std::pair<std::uint32_t, std::uint32_t> examples[] = {
        {1024, 0x1000}, {32768, 0x4000}, {65536, 0x8000}, {262144, 0x30000}, {300032, 0x3A000}, {1048576, 0xF0000}};
    for (auto [size, erase] : examples) EXPECT_EQ(erase_workaround(size, 0), erase) << size;
    for (std::uint32_t offset : {0u, 0x3000u, 0xF000u, 0x10000u, 0x7D000u})
        for (std::uint32_t size : {1u, 0x1000u, 0x5000u, 0x10000u, 0x23456u, 0x100000u}) {
            const auto range = emu::esp8266_rom_erase(erase_workaround(size, offset), offset);
            const std::uint32_t needed = (size + 0xFFF) / 0x1000;
            EXPECT_EQ(range.first, offset / 0x1000);
            EXPECT_GE(range.count, needed) << size << "@" << offset;
            EXPECT_LE(range.count, needed + 1) << size << "@" << offset;
        }
}

// §2.1 deflate: the ROM inflates the zlib stream and writes it at offset; blocks are not padded.
TEST(RomFlash, DeflateWriteLandsByteForByte) {
    rom_harness h(chip_kind::esp32s2);
    h.connect();
    bytes image = pattern(6000, 12);
    std::fill(image.begin() + 1000, image.begin() + 4000, 0x00);  // something to compress
    const bytes z = zlib_compress(image);
    const std::uint32_t blocks = static_cast<std::uint32_t>((z.size() + 0x3FF) / 0x400);
    EXPECT_EQ(status_hex(h.flash_begin(6144, blocks, 0x400, 0x20000, 0x10)), "00000000");
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        bytes block(z.begin() + seq * 0x400, z.begin() + std::min<std::size_t>(z.size(), (seq + 1) * 0x400));
        EXPECT_EQ(status_hex(h.send_block(0x11, seq, block)), "00000000");
    }
    EXPECT_EQ(bytes(h.model().flash().begin() + 0x20000, h.model().flash().begin() + 0x20000 + image.size()), image);
    auto events = h.model().take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_TRUE(events[0].compressed);
    EXPECT_EQ(events[0].size, image.size());
    EXPECT_EQ(events[0].md5, to_hex(md5(image)));
    // FLASH_DEFL_END(1): leave the loader and run the application.
    EXPECT_EQ(status_hex(h.send(0x12, words({1}))), "00000000");
    EXPECT_FALSE(h.model().in_download_mode());
}

TEST(RomFlash, DeflateErrors) {
    const bytes image = pattern(3000, 13);
    const bytes good = zlib_compress(image);
    {   // not a zlib stream
        rom_harness h(chip_kind::esp32);
        h.connect();
        h.flash_begin(0x1000, 1, 0x400, 0, 0x10);
        EXPECT_EQ(status_hex(h.send_block(0x11, 0, pattern(200, 14))), "010b0000");
    }
    {   // damaged Adler-32
        rom_harness h(chip_kind::esp32);
        h.connect();
        bytes bad = good;
        bad.back() ^= 0x55;
        h.flash_begin(0x1000, static_cast<std::uint32_t>((bad.size() + 0x3FF) / 0x400), 0x400, 0, 0x10);
        std::string last;
        for (std::uint32_t seq = 0; seq * 0x400 < bad.size(); ++seq)
            last = status_hex(h.send_block(0x11, seq, bytes(bad.begin() + seq * 0x400, bad.begin() + std::min<std::size_t>(bad.size(), (seq + 1) * 0x400))));
        EXPECT_EQ(last, "010c0000");
    }
    {   // inflates to more than FLASH_DEFL_BEGIN announced
        rom_harness h(chip_kind::esp32);
        h.connect();
        h.flash_begin(0x400, 4, 0x400, 0, 0x10);
        std::string last;
        for (std::uint32_t seq = 0; seq * 0x400 < good.size() && last != "010d0000"; ++seq)
            last = status_hex(h.send_block(0x11, seq, bytes(good.begin() + seq * 0x400, good.begin() + std::min<std::size_t>(good.size(), (seq + 1) * 0x400))));
        EXPECT_EQ(last, "010d0000");
    }
}

TEST(RomFlash, FlashEndRebootsOrRunsTheApplication) {
    {   // FLASH_END(1): run user code -> the application's boot log, SYNC goes unanswered
        rom_harness h(chip_kind::esp32);
        h.connect();
        auto r = h.send(0x04, words({1}));
        EXPECT_EQ(status_hex(r), "00000000");
        EXPECT_NE(std::string(r.noise.begin(), r.noise.end()).find("SPI_FAST_FLASH_BOOT"), std::string::npos);
        EXPECT_TRUE(h.send(0x08, sync_data()).responses.empty());
    }
    {   // FLASH_END(0): reboot; strapped for download it comes back to the loader
        rom_harness h(chip_kind::esp32);
        h.connect();
        auto r = h.send(0x04, words({0}));
        EXPECT_NE(std::string(r.noise.begin(), r.noise.end()).find("waiting for download"), std::string::npos);
        EXPECT_EQ(h.send(0x08, sync_data()).responses.size(), 8u);
    }
}

// With --ram-code quiet the uploaded code never talks; rom_stub_test.cpp covers the stub.
TEST(RomFlash, MemDownloadIsAcceptedAndMemEndJumps) {
    rom_harness h(chip_kind::esp32, {}, instant(), bytes(1u << 20, 0xFF), emu::ram_code::quiet);
    h.send(0x08, sync_data());
    EXPECT_EQ(status_hex(h.send(0x05, words({0x2000, 2, 0x1800, 0x40080000}))), "00000000");
    EXPECT_EQ(status_hex(h.send_block(0x07, 0, pattern(0x1800, 15))), "00000000");
    EXPECT_EQ(status_hex(h.send_block(0x07, 1, pattern(0x900, 16))), "01050000");  // overflows the size
    EXPECT_EQ(status_hex(h.send_block(0x07, 1, pattern(0x800, 16))), "00000000");
    EXPECT_EQ(status_hex(h.send(0x06, words({0, 0x40080400}))), "00000000");
    auto events = h.model().take_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].what, emu::rom_event::kind::ram_exec);
    EXPECT_TRUE(h.send(0x08, sync_data()).responses.empty());
}

}  // namespace
