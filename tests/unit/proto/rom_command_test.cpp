// Exact bytes of ROM commands, status parsing per family, the error table, timeouts per MB,
// reset sequences, boot-log reading and the baud-rate corrections.

#include <otaflash/proto/rom/baud.hpp>
#include <otaflash/proto/rom/boot_log.hpp>
#include <otaflash/proto/rom/command.hpp>
#include <otaflash/proto/rom/reset.hpp>
#include <otaflash/proto/rom/status.hpp>
#include <otaflash/proto/rom/timeouts.hpp>
#include <otaflash/util/hex.hpp>

#include "rom_fakes.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::rom;
using namespace std::chrono_literals;

namespace {
std::string hex(const bytes& b) { return to_hex(b); }
bytes unhex(std::string_view text) { return *from_hex(text); }
}  // namespace

// --- command encoding -------------------------------------------------------------------------

TEST(RomCommand, SyncIsTheFixed46ByteFrame) {
    const bytes wire = frame(sync_command());
    std::string expected = "c0000824000000000007071220";
    for (int i = 0; i < 32; ++i) expected += "55";
    expected += "c0";
    EXPECT_EQ(hex(wire), expected);
    EXPECT_EQ(wire.size(), 46u);
}

TEST(RomCommand, FlashBeginIsFourWordsOnEsp32AndEsp8266) {
    const command cmd = flash_begin(0x1234, 5, 0x400, 0x10000, std::nullopt);
    EXPECT_EQ(cmd.op, opcode::flash_begin);
    EXPECT_EQ(hex(cmd.payload), "34120000" "05000000" "00040000" "00000100");
    EXPECT_EQ(cmd.checksum, 0u);
}

TEST(RomCommand, FlashBeginCarriesTheEncryptedWordOnS2AndLater) {
    EXPECT_EQ(hex(flash_begin(0x2000, 8, 0x400, 0x0, false).payload),
              "00200000" "08000000" "00040000" "00000000" "00000000");
    EXPECT_EQ(hex(flash_begin(0x2000, 8, 0x400, 0x0, true).payload).substr(32), "01000000");
}

TEST(RomCommand, FlashDataFrameHasChecksumSequenceAndEscapes) {
    // Checksum: 0xEF ^ 0xC0 ^ 0xDB ^ 0x01 ^ 0x02 = 0xF7. The block's C0/DB are escaped on the wire.
    const bytes block{0xC0, 0xDB, 0x01, 0x02};
    const command cmd = flash_data(7, block);
    EXPECT_EQ(cmd.checksum, 0xF7u);
    EXPECT_EQ(hex(frame(cmd)), "c0" "0003" "1400" "f7000000" "04000000" "07000000" "0000000000000000"
                               "dbdcdbdd0102" "c0");
}

TEST(RomCommand, DeflateDataUsesItsOwnOpcodeAndNoPadding) {
    const bytes block{1, 2, 3};
    const command cmd = flash_defl_data(0, block);
    EXPECT_EQ(cmd.op, opcode::flash_defl_data);
    EXPECT_EQ(cmd.payload.size(), 16u + 3u);
    EXPECT_EQ(cmd.checksum, std::uint32_t{0xEF ^ 1 ^ 2 ^ 3});
}

TEST(RomCommand, SmallCommandsByteForByte) {
    EXPECT_EQ(hex(read_reg(0x40001000).payload), "00100040");
    EXPECT_EQ(hex(spi_attach().payload), "0000000000000000");  // ROM form: 8 bytes
    EXPECT_EQ(hex(spi_set_params(4u << 20).payload),
              "00000000" "00004000" "00000100" "00100000" "00010000" "ffff0000");
    EXPECT_EQ(hex(change_baudrate(921600).payload), "00100e00" "00000000");
    EXPECT_EQ(hex(flash_end(end_action::run_application).payload), "01000000");
    EXPECT_EQ(hex(flash_end(end_action::reboot).payload), "00000000");
    EXPECT_EQ(hex(spi_flash_md5(0x10000, 0x1234).payload), "00000100" "34120000" "00000000" "00000000");
    EXPECT_EQ(spi_flash_md5(0, 4).reply_payload, 32u);
    EXPECT_EQ(hex(read_flash_slow(0x1000, 64).payload), "00100000" "40000000");
    EXPECT_EQ(read_flash_slow(0, 64).reply_payload, 64u);
    EXPECT_TRUE(get_security_info().payload.empty());
}

TEST(RomCommand, OpcodeNames) {
    EXPECT_EQ(opcode_name(0x03), "FLASH_DATA");
    EXPECT_EQ(opcode_name(0x13), "SPI_FLASH_MD5");
    EXPECT_EQ(opcode_name(0x2a), "0x2a");
}

// rom-bootloader.md §4.2: the values esptool sends (the notes list them as computed examples).
TEST(RomGeometry, Esp8266EraseSizeWorkaround) {
    EXPECT_EQ(esp8266_erase_size(0, 1024), 0x1000u);
    EXPECT_EQ(esp8266_erase_size(0, 32 * 1024), 0x4000u);
    EXPECT_EQ(esp8266_erase_size(0, 64 * 1024), 0x8000u);
    EXPECT_EQ(esp8266_erase_size(0, 256 * 1024), 0x30000u);
    EXPECT_EQ(esp8266_erase_size(0, 300032), 0x3A000u);
    EXPECT_EQ(esp8266_erase_size(0, 1024 * 1024), 0xF0000u);
    // Starting mid-block: 4 sectors up to the 64 KiB boundary, 20 sectors in all → 16 past it.
    EXPECT_EQ(esp8266_erase_size(0xC000, 20 * 4096), 16u * 4096);
    // Fewer sectors than twice the head: half of them, rounded up.
    EXPECT_EQ(esp8266_erase_size(0xC000, 5 * 4096), 3u * 4096);
    EXPECT_EQ(esp8266_erase_size(0, 0), 0u);
}

TEST(RomGeometry, BlocksAndDeflateSize) {
    EXPECT_EQ(block_count(0, 0x400), 0u);
    EXPECT_EQ(block_count(1, 0x400), 1u);
    EXPECT_EQ(block_count(0x400, 0x400), 1u);
    EXPECT_EQ(block_count(0x401, 0x400), 2u);
    EXPECT_EQ(defl_begin_size(1), 0x400u);
    EXPECT_EQ(defl_begin_size(0x800), 0x800u);
    EXPECT_EQ(defl_begin_size(297632), 0x48C00u);
    EXPECT_EQ(flash_range(0x10000, 0x1000), "0x00010000–0x00010fff");
}

// --- status ---------------------------------------------------------------------------------------

TEST(RomStatus, TwoByteFamilyReadsAtPayloadEnd) {
    auto ok = read_status(unhex("0000"), 0);
    ASSERT_TRUE(ok);
    EXPECT_FALSE(ok->failed);
    auto bad = read_status(unhex("0108"), 0);
    ASSERT_TRUE(bad);
    EXPECT_TRUE(bad->failed);
    EXPECT_EQ(bad->error, 0x08);
}

TEST(RomStatus, FourByteFamilyFailureIsNotHiddenByReservedZeros) {
    // The last two bytes of an ESP32-family status are reserved zeros: reading "the last two bytes"
    // would call this a success.
    auto st = read_status(unhex("01080000"), 0);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->failed);
    EXPECT_EQ(st->error, 0x08);
}

TEST(RomStatus, StatusFollowsThePayloadNotTheEnd) {
    const auto text = as_bytes("0123456789abcdef0123456789abcdef");
    const bytes md5_reply(text.begin(), text.end());
    bytes ok = md5_reply;
    ok.insert(ok.end(), {0, 0, 0, 0});
    auto st = read_status(ok, 32);
    ASSERT_TRUE(st);
    EXPECT_FALSE(st->failed);
    bytes bad = md5_reply;
    bad.insert(bad.end(), {1, 0x09, 0, 0});
    st = read_status(bad, 32);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->failed);
    EXPECT_EQ(st->error, 0x09);
    // Two-byte family with the same payload.
    bytes bad2 = md5_reply;
    bad2.insert(bad2.end(), {1, 0x09});
    EXPECT_TRUE(read_status(bad2, 32)->failed);
}

TEST(RomStatus, ShortReplyIsAFailureOnlyWhenItSaysSo) {
    // A refused MD5: no payload, just the status.
    auto st = read_status(unhex("01050000"), 32);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->failed);
    EXPECT_EQ(st->error, 0x05);
    EXPECT_FALSE(read_status(unhex("00000000"), 32));
    EXPECT_FALSE(read_status(bytes{}, 0));
}

TEST(RomStatus, ErrorTableSpeaksPlainly) {
    EXPECT_EQ(rom_error_text(0x05), "invalid or unsupported command");
    EXPECT_EQ(rom_error_text(0x07), "data checksum error (bytes were corrupted on the way)");
    EXPECT_EQ(rom_error_text(0x08), "flash write error (the ROM read back different data)");
    EXPECT_EQ(rom_error_text(0x0C), "deflate Adler-32 checksum error");
    EXPECT_EQ(rom_error_text(0x69), "insufficient storage");
    EXPECT_EQ(rom_error_text(0x01), "undefined error");
    EXPECT_EQ(rom_error_text(0x42), "unknown error code");
    EXPECT_EQ(describe_rom_error(0x08), "0x08 flash write error (the ROM read back different data)");
    EXPECT_NE(rom_error_hint(0x07).find("--baud"), std::string_view::npos);
}

// --- timeouts -------------------------------------------------------------------------------------

TEST(RomTimeouts, PerMegabyteWithFloorAndCap) {
    const timeouts t;
    EXPECT_EQ(t.erase(1'000'000), std::chrono::seconds(40));
    EXPECT_EQ(t.erase(250'000), std::chrono::seconds(10));
    EXPECT_EQ(t.erase(10'000), std::chrono::seconds(3));  // never below the command timeout
    EXPECT_EQ(t.md5(1'000'000), std::chrono::seconds(8));
    EXPECT_EQ(t.md5(4'000'000), std::chrono::seconds(32));
    EXPECT_EQ(t.write(1024), std::chrono::seconds(3));
    EXPECT_EQ(t.write(100'000), std::chrono::seconds(4));
    EXPECT_EQ(t.erase(16u << 20), std::chrono::seconds(240));  // 671 s capped
    timeouts quick;
    quick.command = 200ms;
    EXPECT_EQ(quick.erase(1000), 200ms);
}

// --- reset sequences ------------------------------------------------------------------------------

TEST(RomReset, BuiltInSequencesInEsptoolSyntax) {
    EXPECT_EQ(to_string(classic_reset(reset_delay_short)), "D0|R1|W0.1|D1|R0|W0.05|D0");
    EXPECT_EQ(to_string(classic_reset(reset_delay_long)), "D0|R1|W0.1|D1|R0|W0.55|D0");
    EXPECT_EQ(to_string(unix_tight_reset(reset_delay_short)), "U0,0|U1,1|U0,1|W0.1|U1,0|W0.05|U0,0|D0");
    EXPECT_EQ(to_string(usb_jtag_serial_reset()), "R0|D0|W0.1|D1|R0|W0.1|R1|D0|R1|W0.1|D0|R0");
    EXPECT_EQ(to_string(hard_reset()), "R1|W0.1|R0");
}

TEST(RomReset, CustomSequenceRoundTrips) {
    auto seq = parse_reset_sequence("D0|R1|W0.1|D1|R0|W0.05|D0");
    ASSERT_TRUE(seq);
    EXPECT_EQ(seq->steps, classic_reset(reset_delay_short).steps);
    auto u = parse_reset_sequence(" U1,0 | W1.25 ");
    ASSERT_TRUE(u);
    EXPECT_EQ(to_string(*u), "U1,0|W1.25");
}

TEST(RomReset, CustomSequenceErrorsNameTheStep) {
    for (const char* bad : {"", "D2", "X1", "U1", "U1,2", "W", "Wabc", "W-1", "W11", "D0||R1"}) {
        auto seq = parse_reset_sequence(bad);
        ASSERT_FALSE(seq) << bad;
        EXPECT_EQ(seq.error().code, errc::usage_error);
        EXPECT_NE(seq.error().hint.find("D0|R1"), std::string::npos);
    }
    EXPECT_NE(parse_reset_sequence("D0|Q1").error().message.find("'Q1'"), std::string::npos);
}

TEST(RomReset, ConnectStrategiesFollowEsptool) {
    auto def = connect_strategies(before_reset::default_reset);
    ASSERT_EQ(def.size(), 4u);
    EXPECT_EQ(def[0].name, "unix-tight");
    EXPECT_EQ(def[2].name, "classic");
    EXPECT_EQ(to_string(def[3]), "D0|R1|W0.1|D1|R0|W0.55|D0");
    EXPECT_TRUE(connect_strategies(before_reset::no_reset).empty());
    EXPECT_EQ(connect_strategies(before_reset::usb_reset).at(0).name, "usb-jtag-serial");
}

TEST(RomReset, RunSetsBothLinesEachStepAndWaits) {
    test::fake_port p;
    auto start = p.now();
    auto done = run_reset(p, classic_reset(reset_delay_short));
    ASSERT_TRUE(done);
    EXPECT_TRUE(*done);
    const std::vector<std::pair<bool, bool>> expected = {{false, false}, {false, true}, {true, true}, {true, false}, {false, false}};
    EXPECT_EQ(p.line_changes, expected);
    EXPECT_EQ(p.now() - start, 150ms);
}

TEST(RomReset, PortWithoutLinesKeepsTheWaitsAndSaysSo) {
    test::fake_port p;
    p.has_lines = false;
    auto start = p.now();
    auto done = run_reset(p, hard_reset());
    ASSERT_TRUE(done);
    EXPECT_FALSE(*done);
    EXPECT_EQ(p.now() - start, 100ms);
}

// --- boot log -------------------------------------------------------------------------------------

TEST(RomBootLog, Esp32DownloadAndFlashBoot) {
    auto dl = read_boot_evidence(as_bytes("ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 "
                                          "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n"));
    EXPECT_EQ(dl.what, boot_evidence::kind::download_mode);
    auto app = read_boot_evidence(as_bytes("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nconfigsip: 0\r\n"));
    EXPECT_EQ(app.what, boot_evidence::kind::normal_boot);
    EXPECT_EQ(app.boot_mode, "0x13 (SPI_FAST_FLASH_BOOT)");
    EXPECT_NE(app.excerpt.find("boot:0x13"), std::string::npos);
}

TEST(RomBootLog, Esp8266BootMode) {
    EXPECT_EQ(read_boot_evidence(as_bytes("\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n")).what,
              boot_evidence::kind::normal_boot);
    auto dl = read_boot_evidence(as_bytes(" ets Jan  8 2013,rst cause:2, boot mode:(1,7)\r\n"));
    EXPECT_EQ(dl.what, boot_evidence::kind::download_mode);
    EXPECT_EQ(dl.boot_mode, "(1,7)");
}

TEST(RomBootLog, PanicTextGarbageSilence) {
    EXPECT_EQ(read_boot_evidence(as_bytes("Guru Meditation Error: Core  1 panic'ed (LoadProhibited)")).what,
              boot_evidence::kind::panic);
    auto text = read_boot_evidence(as_bytes("temperature=21.5\r\nhumidity=40\r\n"));
    EXPECT_EQ(text.what, boot_evidence::kind::application_text);
    EXPECT_EQ(text.excerpt, "humidity=40");
    const bytes garbage{0x80, 0xF3, 0x12, 0x9A, 0xFE, 0x00, 0x41, 0xC3, 0x99, 0x07};
    EXPECT_EQ(read_boot_evidence(garbage).what, boot_evidence::kind::unreadable);
    EXPECT_EQ(read_boot_evidence(bytes{}).what, boot_evidence::kind::nothing);
}

// --- baud corrections -----------------------------------------------------------------------------

TEST(RomBaud, Esp32RcClockSkew) {
    // ROM estimate: cali × 15625 × ck8m / 40. cali 2560, ck8m 41 → 41 MHz → "40 MHz" crystal:
    // the ROM must be told 921600 × 41 / 40 = 944640.
    const std::uint32_t cali_reg = 2560u << 7;
    EXPECT_EQ(esp32_rom_baud(921600, cali_reg, 41), 944640u);
    // An exact 40 MHz estimate needs no skew.
    EXPECT_EQ(esp32_rom_baud(921600, cali_reg, 40), 921600u);
    // 26 MHz boards: estimate 26.4 MHz → told 921600 × 26.4 / 26.
    EXPECT_EQ(esp32_rom_baud(921600, 2640u << 7, 26), static_cast<std::uint32_t>(921600ull * 26812500 / 26000000));
    // Registers that do not hold an estimate (an emulator answering 0) leave the rate alone.
    EXPECT_FALSE(esp32_rom_baud(921600, 0, 0));
}

TEST(RomBaud, CrystalEstimateAndC2C5) {
    // UART_CLKDIV at 115200 on a 40 MHz crystal: 40e6 / 115200 ≈ 347.
    EXPECT_EQ(crystal_mhz(115200, 347, 1), 40u);
    EXPECT_EQ(crystal_mhz(115200, 226, 1), 26u);
    EXPECT_EQ(crystal_mhz(115200, 417, 1), 48u);
    EXPECT_EQ(crystal_mhz(115200, 694, 2), 40u);  // ESP8266 divides by 2
    EXPECT_FALSE(crystal_mhz(115200, 0, 1));
    EXPECT_EQ(esp32c2_rom_baud(921600, 26), 921600u * 40 / 26);
    EXPECT_EQ(esp32c2_rom_baud(921600, 40), 921600u);
    EXPECT_EQ(esp32c5_rom_baud(921600, 48, 40u << 24), 921600u * 40 / 48);
    EXPECT_EQ(esp32c5_rom_baud(921600, 40, 48u << 24), 921600u * 48 / 40);
    EXPECT_EQ(esp32c5_rom_baud(921600, 48, 48u << 24), 921600u);
}
