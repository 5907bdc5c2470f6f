// The emulated ROM's answers, byte for byte, per chip family (rom-bootloader.md §1–§3).

#include "rom_model_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::test;
using emu::chip_kind;

namespace {

constexpr chip_kind esp32_family[] = {chip_kind::esp32, chip_kind::esp32s2, chip_kind::esp32s3, chip_kind::esp32c3};

// §2.1: SYNC is answered 8 times; ESP32 family `01 08 04 00 <val> 00 00 00 00`.
TEST(RomProtocol, SyncRepliesEightTimesWithFourStatusBytesOnEsp32Family) {
    for (auto chip : esp32_family) {
        rom_harness h(chip);
        auto r = h.send(0x08, sync_data());
        ASSERT_EQ(r.responses.size(), 8u) << emu::emulated_chip(chip).name();
        bytes expected_frame = {0xC0, 0x01, 0x08, 0x04, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00, 0x00, 0x00, 0x00, 0xC0};
        bytes expected_wire;
        for (int i = 0; i < 8; ++i) expected_wire.insert(expected_wire.end(), expected_frame.begin(), expected_frame.end());
        ASSERT_EQ(r.raw.size(), 1u);
        EXPECT_EQ(to_hex(r.raw[0].data), to_hex(expected_wire));
        EXPECT_TRUE(r.noise.empty());
    }
}

// §2.1: ESP8266 `01 08 02 00 <val> 00 00` (2 status bytes).
TEST(RomProtocol, SyncOnEsp8266HasTwoStatusBytes) {
    rom_harness h(chip_kind::esp8266);
    auto r = h.send(0x08, sync_data());
    ASSERT_EQ(r.responses.size(), 8u);
    for (const auto& resp : r.responses) {
        EXPECT_EQ(to_hex(rom::encode_response(resp.opcode, resp.value, resp.data)), "01080200070712200000");
    }
}

TEST(RomProtocol, SyncWithAWrongPayloadIsAnInvalidMessage) {
    rom_harness h(chip_kind::esp32);
    bytes bad = sync_data();
    bad[10] = 0x54;
    auto r = h.send(0x08, bad);
    ASSERT_EQ(r.responses.size(), 1u);
    EXPECT_EQ(to_hex(r.responses[0].data), "01050000");
}

// §3 / §11: READ_REG 0x40001000 returns the chip's magic value in the value field.
TEST(RomProtocol, ReadRegReturnsTheMagicOfEachChip) {
    const std::pair<chip_kind, std::uint32_t> magic[] = {
        {chip_kind::esp8266, 0xFFF0C101}, {chip_kind::esp32, 0x00F01D83}, {chip_kind::esp32s2, 0x000007C6},
        {chip_kind::esp32s3, 0x00000009}, {chip_kind::esp32c3, 0x6921506F}};
    for (auto [chip, value] : magic) {
        rom_harness h(chip);
        auto r = h.send(0x0A, words({0x40001000}));
        ASSERT_EQ(r.responses.size(), 1u);
        EXPECT_EQ(r.responses[0].opcode, 0x0A);
        EXPECT_EQ(r.responses[0].value, value) << emu::emulated_chip(chip).name();
        EXPECT_EQ(r.responses[0].data, bytes(emu::emulated_chip(chip).status_size(), 0));
    }
}

// §1.3: the ESP8266 ROM leaves junk in the value field of e.g. WRITE_REG replies; a host must
// look at the value only for READ_REG and SYNC.
TEST(RomProtocol, Esp8266WriteRegValueFieldIsJunkButReadRegIsExact) {
    rom_harness h(chip_kind::esp8266);
    auto w = h.send(0x09, words({0x3FF00000, 0x1234, 0xFFFFFFFF, 0}));
    ASSERT_EQ(w.responses.size(), 1u);
    EXPECT_NE(w.responses[0].value, 0u);
    EXPECT_EQ(to_hex(w.responses[0].data), "0000");
    auto r = h.send(0x0A, words({0x3FF00000}));
    EXPECT_EQ(r.responses[0].value, 0x1234u);
}

TEST(RomProtocol, WriteRegHonoursTheMask) {
    rom_harness h(chip_kind::esp32);
    h.send(0x09, words({0x3FF00010, 0xAABBCCDD, 0xFFFFFFFF, 0}));
    h.send(0x09, words({0x3FF00010, 0x11111111, 0x0000FF00, 0}));
    EXPECT_EQ(h.send(0x0A, words({0x3FF00010})).responses[0].value, 0xAABB11DDu);
}

// §1.3: an opcode outside the ROM's set fails with 0x05, and one request gets exactly one reply:
// a second copy is what esptool v3.3.3 read as the answer to its next READ_REG (issue 12 item 22).
TEST(RomProtocol, UnsupportedCommandGetsExactlyOneErrorFrameOnEveryChip) {
    for (auto chip : emu::emulated_chips()) {
        const auto& rom = emu::emulated_chip(chip);
        std::vector<std::uint8_t> unsupported{0xD0};  // ERASE_FLASH: stub only, on every chip
        if (rom.info->security_info_length == 0) unsupported.push_back(0x14);  // GET_SECURITY_INFO: ESP8266, ESP32
        for (auto opcode : unsupported) {
            rom_harness h(chip);
            auto r = h.send(opcode, {});
            bytes wire;
            for (const auto& t : r.raw) wire.insert(wire.end(), t.data.begin(), t.data.end());
            if (rom.esp8266()) {
                // C0, 01 op, size 2, value (junk on the ESP8266 ROM), failed 1, error 05, C0.
                ASSERT_EQ(wire.size(), 12u) << rom.name() << " " << int(opcode) << ": " << to_hex(wire);
                std::fill(wire.begin() + 5, wire.begin() + 9, 0);
                EXPECT_EQ(to_hex(wire), "c001" + to_hex(bytes{opcode}) + "0200000000000105c0") << rom.name();
            } else {
                EXPECT_EQ(to_hex(wire), "c001" + to_hex(bytes{opcode}) + "04000000000001050000c0")
                    << rom.name() << " " << int(opcode);
            }
        }
    }
}

// §2 table: SPI_SET_PARAMS, SPI_ATTACH, READ_FLASH_SLOW, CHANGE_BAUDRATE, deflate, MD5 and
// GET_SECURITY_INFO are not in the ESP8266 ROM: invalid message, 2 status bytes.
TEST(RomProtocol, Esp8266RomLacksTheEsp32Commands) {
    for (std::uint8_t opcode : {0x0B, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14}) {
        rom_harness h(chip_kind::esp8266);
        auto r = h.send(opcode, bytes(8, 0));
        ASSERT_FALSE(r.responses.empty()) << int(opcode);
        EXPECT_EQ(r.responses[0].opcode, opcode);
        EXPECT_EQ(to_hex(r.responses[0].data), "0105") << int(opcode);
    }
}

// §2.1 / §4.3: ESP32 and ESP8266 ROMs take exactly 16 bytes of FLASH_BEGIN; S2 and later need
// the 5th `encrypted` word.
TEST(RomProtocol, FlashBeginPayloadSizePerFamily) {
    const std::pair<chip_kind, std::size_t> accepted[] = {{chip_kind::esp8266, 16}, {chip_kind::esp32, 16},
                                                          {chip_kind::esp32s2, 20}, {chip_kind::esp32s3, 20},
                                                          {chip_kind::esp32c3, 20}};
    for (auto [chip, good] : accepted) {
        for (std::size_t size : {16u, 20u}) {
            rom_harness h(chip);
            h.connect();
            bytes data = words({0x1000, 4, 0x400, 0x10000});
            if (size == 20) append_le32(data, 0);
            auto r = h.send(0x02, data);
            ASSERT_EQ(r.responses.size(), 1u);
            const auto status = status_of(r.responses[0], emu::emulated_chip(chip).status_size());
            if (size == good) EXPECT_EQ(status[0], 0) << emu::emulated_chip(chip).name() << " " << size;
            else EXPECT_EQ(to_hex(bytes(status.begin(), status.begin() + 2)), "0105") << emu::emulated_chip(chip).name() << " " << size;
        }
    }
}

TEST(RomProtocol, EncryptedFlashBeginIsRefused) {
    rom_harness h(chip_kind::esp32s3);
    h.connect();
    auto r = h.send(0x02, words({0x1000, 4, 0x400, 0x10000, 1}));
    EXPECT_EQ(to_hex(r.responses[0].data), "01060000");
}

// §2.1 SPI_ATTACH: required before flash operations on ESP32-family ROMs.
TEST(RomProtocol, Esp32FlashOperationsNeedSpiAttachFirst) {
    rom_harness h(chip_kind::esp32);
    h.send(0x08, sync_data());
    EXPECT_EQ(to_hex(h.send(0x02, words({0x1000, 4, 0x400, 0})).responses[0].data), "01060000");
    EXPECT_EQ(to_hex(h.send(0x13, words({0, 0x1000, 0, 0})).responses[0].data), "01060000");
    // FLASH_BEGIN(0, 0) touches no flash (esptool's "run"/soft reset) and is fine.
    EXPECT_EQ(to_hex(h.send(0x02, words({0, 0, 0x400, 0})).responses[0].data), "00000000");
    EXPECT_EQ(to_hex(h.send(0x0D, bytes(4, 0)).responses[0].data), "01050000");  // the stub's 4-byte form
    EXPECT_EQ(to_hex(h.send(0x0D, bytes(8, 0)).responses[0].data), "00000000");
    EXPECT_EQ(to_hex(h.send(0x02, words({0x1000, 4, 0x400, 0})).responses[0].data), "00000000");
}

// §2.1 SPI_SET_PARAMS: the ROM assumes 2 MB until told otherwise.
TEST(RomProtocol, Esp32RomAssumesTwoMegabytesUntilSpiSetParams) {
    rom_harness h(chip_kind::esp32, {}, instant(), bytes(4u << 20, 0xFF));
    h.send(0x0D, bytes(8, 0));
    EXPECT_EQ(to_hex(h.send(0x02, words({0x1000, 4, 0x400, 0x200000})).responses[0].data), "01060000");
    h.send(0x0B, words({0, 4u << 20, 0x10000, 0x1000, 0x100, 0xFFFF}));
    EXPECT_EQ(to_hex(h.send(0x02, words({0x1000, 4, 0x400, 0x200000})).responses[0].data), "00000000");
}

// §2.1 GET_SECURITY_INFO: S2 and later; 12 bytes on S2, 20 with chip_id on the others.
TEST(RomProtocol, SecurityInfoPerChip) {
    {
        rom_harness h(chip_kind::esp32s2);
        auto r = h.send(0x14, {});
        ASSERT_EQ(r.responses[0].data.size(), 12u + 4);
        EXPECT_EQ(to_hex(status_of(r.responses[0], 4)), "00000000");
    }
    for (auto [chip, id] : {std::pair{chip_kind::esp32s3, 9u}, std::pair{chip_kind::esp32c3, 5u}}) {
        rom_harness h(chip);
        auto r = h.send(0x14, {});
        ASSERT_EQ(r.responses[0].data.size(), 20u + 4);
        EXPECT_EQ(load_le32(r.responses[0].data.data() + 12), id);
    }
    rom_harness esp32(chip_kind::esp32);
    EXPECT_EQ(to_hex(esp32.send(0x14, {}).responses[0].data), "01050000");
}

// §2.1 SPI_FLASH_MD5: 32 lowercase hex characters, then the status.
TEST(RomProtocol, Md5Is32LowercaseHexThenStatus) {
    bytes flash(1u << 20, 0xFF);
    for (std::size_t i = 0; i < 0x2000; ++i) flash[0x3000 + i] = static_cast<std::uint8_t>(i * 7);
    rom_harness h(chip_kind::esp32, {}, instant(), flash);
    h.connect();
    auto r = h.send(0x13, words({0x3000, 0x2000, 0, 0}));
    ASSERT_EQ(r.responses.size(), 1u);
    const auto& d = r.responses[0].data;
    ASSERT_EQ(d.size(), 36u);
    const std::string hex(d.begin(), d.begin() + 32);
    EXPECT_EQ(hex, to_hex(md5(byte_view(flash).subspan(0x3000, 0x2000))));
    EXPECT_EQ(to_hex(byte_view(d).subspan(32)), "00000000");
}

// §2.1 READ_FLASH_SLOW: always a 64-byte buffer; more than 64 asked is a read length error.
TEST(RomProtocol, ReadFlashSlowAnswersSixtyFourBytes) {
    bytes flash(1u << 20, 0xFF);
    for (std::size_t i = 0; i < 64; ++i) flash[0x100 + i] = static_cast<std::uint8_t>(i + 1);
    rom_harness h(chip_kind::esp32s3, {}, instant(), flash);
    h.connect();
    auto full = h.send(0x0E, words({0x100, 64}));
    ASSERT_EQ(full.responses[0].data.size(), 64u + 4);
    EXPECT_EQ(bytes(full.responses[0].data.begin(), full.responses[0].data.begin() + 64),
              bytes(flash.begin() + 0x100, flash.begin() + 0x140));
    auto part = h.send(0x0E, words({0x100, 16}));
    ASSERT_EQ(part.responses[0].data.size(), 64u + 4);
    EXPECT_EQ(part.responses[0].data[15], 16);
    EXPECT_EQ(part.responses[0].data[16], 0);
    EXPECT_EQ(to_hex(h.send(0x0E, words({0x100, 65})).responses[0].data), "010a0000");
}

// §2.2: reading the JEDEC ID through the SPI controller registers, as esptool's flash_id does.
TEST(RomProtocol, JedecIdThroughSpiRegistersReportsTheFlashSize) {
    struct layout { chip_kind chip; std::uint32_t base, usr2, w0; };
    for (auto l : {layout{chip_kind::esp32, 0x3FF42000, 0x24, 0x80}, layout{chip_kind::esp32c3, 0x60002000, 0x20, 0x58},
                   layout{chip_kind::esp8266, 0x60000200, 0x24, 0x40}}) {
        rom_harness h(l.chip, {}, instant(), bytes(4u << 20, 0xFF));
        h.send(0x09, words({l.base + l.usr2, (7u << 28) | 0x9F, 0xFFFFFFFF, 0}));
        h.send(0x09, words({l.base, 1u << 18, 0xFFFFFFFF, 0}));
        EXPECT_EQ(h.send(0x0A, words({l.base})).responses[0].value & (1u << 18), 0u);
        const std::uint32_t id = h.send(0x0A, words({l.base + l.w0})).responses[0].value;
        EXPECT_EQ((id >> 16) & 0xFF, 0x16u) << "4 MiB";
        EXPECT_EQ(id & 0xFF, 0xEFu);
    }
}

// §6: CHANGE_BAUDRATE is answered at the old rate, then the ROM listens at the new one only.
TEST(RomProtocol, ChangeBaudrateAnswersAtTheOldRateThenSwitches) {
    rom_harness h(chip_kind::esp32);
    h.connect();
    auto r = h.send(0x0F, words({921600, 0}));
    ASSERT_EQ(r.responses.size(), 1u);
    EXPECT_EQ(to_hex(r.responses[0].data), "00000000");
    EXPECT_EQ(r.raw.back().baud, 115200u);
    EXPECT_EQ(h.model().baud(), 921600u);
    // A host that stays at 115200 is now talking junk to the ROM: no answer.
    EXPECT_TRUE(h.send(0x0A, words({0x40001000}), 0, 115200).responses.empty());
    // That junk left the ROM's decoder mid-frame: the first frame at the right rate closes it.
    h.send(0x0A, words({0x40001000}), 0, 921600);
    auto fast = h.send(0x0A, words({0x40001000}), 0, 921600);
    ASSERT_EQ(fast.responses.size(), 1u);
    EXPECT_EQ(fast.raw.back().baud, 921600u);
}

// §6: before any CHANGE_BAUDRATE the ESP32-family ROM auto-bauds on SYNC; the ESP8266 ROM does
// not manage it above 115200.
TEST(RomProtocol, AutoBaudOnSyncEsp32YesEsp8266NotAbove115200) {
    rom_harness esp32(chip_kind::esp32);
    EXPECT_EQ(esp32.send(0x08, sync_data(), 0, 460800).responses.size(), 8u);
    rom_harness esp8266(chip_kind::esp8266);
    EXPECT_TRUE(esp8266.send(0x08, sync_data(), 0, 460800).responses.empty());
    // The junk left the decoder mid-frame, so (like a real host) try SYNC more than once.
    std::size_t replies = 0;
    for (int attempt = 0; attempt < 3 && replies == 0; ++attempt)
        replies = esp8266.send(0x08, sync_data(), 0, 115200).responses.size();
    EXPECT_EQ(replies, 8u);
}

// §3: the UART clock divider register gives the crystal estimate esptool computes.
TEST(RomProtocol, UartClockDividerMatchesTheCrystal) {
    rom_harness esp8266(chip_kind::esp8266);
    const auto div = esp8266.send(0x0A, words({0x60000014})).responses[0].value & 0xFFFFF;
    EXPECT_NEAR(115200.0 * div / 1e6 / 2, 26.0, 0.2);
    rom_harness esp32(chip_kind::esp32);
    const auto div32 = esp32.send(0x0A, words({0x3FF40014})).responses[0].value & 0xFFFFF;
    EXPECT_NEAR(115200.0 * div32 / 1e6, 40.0, 0.2);
}

TEST(RomProtocol, MalformedFramesAreIgnored) {
    rom_harness h(chip_kind::esp32);
    auto r = h.send_raw(bytes{0xC0, 0x00, 0x08, 0x24, 0x00, 0xC0});  // too short to be a request
    EXPECT_TRUE(r.responses.empty());
    EXPECT_EQ(h.send(0x08, sync_data()).responses.size(), 8u);
}

}  // namespace

// Issue 12 item 24: the eFuse words hold a MAC and a revision where esptool reads them (the
// expected words are esptool's formulas worked backwards, not the table the emulator uses).
TEST(RomProtocol, EfuseWordsHoldTheConfiguredMacAndRevision) {
    auto read = [](rom_harness& h, std::uint32_t address) {
        return h.send(0x0A, words({address})).responses.at(0).value;
    };
    {  // the harness takes no eFuse settings: drive a model configured with them directly
        emu::rom_config c;
        c.chip = chip_kind::esp32;
        c.speeds = instant();
        c.mac = {0x24, 0x0A, 0xC4, 0xAB, 0xCD, 0xEF};
        c.revision = chip_revision{3, 1};
        emu::rom_model m(c, bytes(1u << 20, 0xFF));
        m.start({}, emu::boot_mode::download);
        auto reply = [&](std::uint32_t address) {
            rom::slip::decoder d;
            m.receive(rom::slip::encode(rom::encode_request(0x0A, words({address}), 0)), {}, 115200);
            rom::slip::decoder::output out;
            for (auto& t : m.take_output()) d.feed(t.data, out);
            return rom::parse_response(out.frames.at(0))->value;
        };
        EXPECT_EQ(reply(0x3FF5A004), 0xC4ABCDEFu);
        EXPECT_EQ(reply(0x3FF5A008) & 0xFFFF, 0x240Au);
        EXPECT_EQ(reply(0x3FF5A00C) >> 15 & 1, 1u);
        EXPECT_EQ(reply(0x3FF5A014) >> 20 & 1, 1u);
        EXPECT_EQ(reply(0x3FF5A014) >> 24 & 3, 1u);
        EXPECT_EQ(reply(0x3FF6607C) >> 31, 1u);
    }
    // Defaults: the chip's Espressif OUI and its usual revision, never all zeros.
    rom_harness c3(chip_kind::esp32c3);
    EXPECT_EQ(read(c3, 0x60008848) & 0xFFFF, 0x58CFu);
    EXPECT_EQ(read(c3, 0x60008844) >> 24, 0x79u);
    EXPECT_EQ(read(c3, 0x60008850) >> 18 & 7, 4u);  // v0.4
    rom_harness e8266(chip_kind::esp8266);
    EXPECT_EQ(read(e8266, 0x3FF0005C), 0x5CCF7Fu);
}

