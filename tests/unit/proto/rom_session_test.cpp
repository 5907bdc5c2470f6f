// The ROM conversation and the flash/verify jobs against a fake port with a manual clock: scripted
// bytes, every fault the fake ROM can play, and a failure injected at every step of a good run.

#include <otaflash/proto/rom/flasher.hpp>
#include <otaflash/util/hex.hpp>

#include "fixtures.hpp"
#include "rom_fakes.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace otaflash;
using namespace otaflash::rom;
using namespace std::chrono_literals;
using otaflash::test::fake_port;
using otaflash::test::fake_rom;
using otaflash::test::random_bytes;

namespace {

// Firmware-like: compressible, but not trivially.
bytes text_like(std::size_t n) {
    bytes out;
    const std::string words = "the quick brown fox jumps over the lazy dog 0123456789 ";
    std::mt19937 gen(7);
    while (out.size() < n) out.push_back(static_cast<std::uint8_t>(words[gen() % words.size()]));
    return out;
}

flash_request request_for(bytes data, std::uint32_t offset = 0x10000) {
    flash_request r;
    r.regions.push_back({offset, std::move(data), "app.bin"});
    r.connect.strategies = connect_strategies(before_reset::default_reset);
    r.connect.attempts = 2;
    r.flash_size = 4u << 20;
    return r;
}


}  // namespace

// --- loader ---------------------------------------------------------------------------------------

TEST(RomLoader, SkipsStrayFramesAndNoiseToFindTheReply) {
    fake_port p;
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    // A late SYNC duplicate, boot text and a non-reply frame before the READ_REG answer.
    p.deliver(frame(sync_command()));  // a request frame: not a reply, dropped
    p.deliver(slip::encode(encode_response(0x08, 0x20120707, bytes{0, 0})));
    p.deliver(as_bytes("garbage text"));
    p.deliver(slip::encode(encode_response(0x0A, 0x00F01D83, bytes{0, 0, 0, 0})), 2ms);
    auto r = rom.transact(read_reg(chip_detect_magic_reg), 3s, "read the magic register");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->value, 0x00F01D83u);
    EXPECT_FALSE(r->st.failed);
    EXPECT_EQ(as_text(rom.take_noise()), "garbage text");
}

TEST(RomLoader, TimeoutNamesWhatWasAwaited) {
    fake_port p;
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    const auto start = p.now();
    auto r = rom.transact(read_reg(0x40001000), 3s, "read the magic register");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::rom_timeout);
    EXPECT_EQ(r.error().message, "timed out after 3.0 s waiting for the ROM to read the magic register");
    EXPECT_EQ(p.now() - start, 3s);
}

TEST(RomLoader, FailedStatusBecomesRomErrorWithReason) {
    fake_port p;
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    p.deliver(slip::encode(encode_response(0x03, 0, bytes{1, 0x08, 0, 0})));
    auto r = rom.execute(flash_data(0, bytes(1024, 0)), 3s, "write block 1 of 1 (0x00000000)");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::rom_error);
    EXPECT_EQ(r.error().message,
              "the ROM failed to write block 1 of 1 (0x00000000): 0x08 flash write error (the ROM read back different data)");
}

TEST(RomLoader, UnsupportedCommandUnderAnotherOpcodeIsRecognised) {
    fake_port p;
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    for (int i = 0; i < 3; ++i) p.deliver(slip::encode(encode_response(0x00, 0, bytes{1, 0x05})));
    auto r = rom.transact(get_security_info(), 3s, "report its security info");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->st.failed);
    EXPECT_EQ(r->st.error, rom_error_invalid_message);
}

TEST(RomLoader, PortFailureSaysWhatWasGoingOn) {
    fake_port p;
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    p.fail_at_step = 2;
    p.fail_with = errc::interrupted_sigint;
    auto r = rom.transact(read_reg(0x40001000), 3s, "read the magic register");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::interrupted_sigint);
    EXPECT_NE(r.error().message.find("while trying to read the magic register"), std::string::npos);
}

// --- connect and detect ---------------------------------------------------------------------------

TEST(RomConnect, SyncsDrainsDuplicatesAndSkipsBootNoise) {
    fake_rom dev(chip::esp32);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    p.deliver(as_bytes("rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT)\r\nwaiting for download\r\n"));
    connect_options opts;
    opts.strategies = connect_strategies(before_reset::default_reset);
    auto c = connect(rom, opts);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->attempts, 1);
    EXPECT_EQ(c->sync_replies, 8);
    EXPECT_EQ(c->sync_value, 0x20120707u);
    EXPECT_EQ(c->reset, "unix-tight");
    EXPECT_TRUE(c->modem_lines);
    // The next command gets its own reply, not a leftover SYNC.
    auto magic = rom.transact(read_reg(chip_detect_magic_reg), 3s, "read the magic register");
    ASSERT_TRUE(magic);
    EXPECT_EQ(magic->value, 0x00F01D83u);
}

TEST(RomConnect, NormalBootIsReportedAsNotInDownloadMode) {
    fake_rom dev(chip::esp32);
    dev.answers = false;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    p.deliver(as_bytes("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\nload:0x3fff0030\r\n"), 20ms);
    connect_options opts;
    opts.strategies = {classic_reset(reset_delay_short)};
    opts.attempts = 2;
    auto c = connect(rom, opts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, errc::not_in_download_mode);
    EXPECT_NE(c.error().message.find("booted from flash (boot mode 0x13 (SPI_FAST_FLASH_BOOT))"), std::string::npos);
    EXPECT_NE(c.error().message.find("2 attempts"), std::string::npos);
    EXPECT_NE(c.error().hint.find("hold BOOT"), std::string::npos);
}

TEST(RomConnect, SilenceOnAPtyNamesTheMissingModemLines) {
    fake_port p;
    p.has_lines = false;
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    connect_options opts;
    opts.strategies = connect_strategies(before_reset::default_reset);
    opts.attempts = 3;
    const auto start = p.now();
    auto c = connect(rom, opts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, errc::sync_failed);
    EXPECT_EQ(c.error().message, "no reply from /dev/fake (3 attempts)");
    EXPECT_NE(c.error().hint.find("no DTR/RTS lines"), std::string::npos);
    EXPECT_LT(p.now() - start, 6s);  // 3 × (reset + 5 × (0.1 s + 0.05 s)), no hidden waits
}

TEST(RomConnect, ApplicationTextMeansWrongPortOrMode) {
    fake_port p;
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    p.deliver(as_bytes("Hello from my sketch\r\n"));
    connect_options opts;
    opts.attempts = 1;
    auto c = connect(rom, opts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, errc::not_in_download_mode);
    EXPECT_NE(c.error().message.find("'Hello from my sketch'"), std::string::npos);
}

TEST(RomConnect, FindsAChipLeftAtTheTargetRate) {
    fake_rom dev(chip::esp32);
    dev.rom_baud = 921600;  // an earlier session switched it and left it in the bootloader
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    connect_options opts;
    opts.attempts = 3;
    opts.rates = {115200, 921600};
    auto c = connect(rom, opts);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->attempts, 2);
    EXPECT_EQ(c->baud, 921600u);
    auto id = detect_chip(rom, nullptr);
    ASSERT_TRUE(id);
    auto baud = change_baud(rom, *id, 921600);
    ASSERT_TRUE(baud);
    EXPECT_EQ(baud->told_rom, 0u);  // already there: no CHANGE_BAUDRATE
}

TEST(RomBaudSwitch, Esp32IsToldTheSkewedRate) {
    fake_rom dev(chip::esp32);
    dev.registers[0x3FF5F06C] = 2560u << 7;  // the ROM estimated a 41 MHz crystal on a 40 MHz board
    dev.registers[0x3FF5A010] = 41;
    dev.baud_effect = [](std::uint32_t told) { return static_cast<std::uint32_t>(std::uint64_t{told} * 40 / 41); };
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    ASSERT_TRUE(connect(rom, {}));
    auto id = detect_chip(rom, nullptr);
    ASSERT_TRUE(id);
    auto baud = change_baud(rom, *id, 921600);
    ASSERT_TRUE(baud) << baud.error().message;
    EXPECT_EQ(baud->rate, 921600u);
    EXPECT_EQ(baud->told_rom, 944640u);
    EXPECT_EQ(dev.rom_baud, 921600u);
    const auto& req = dev.requests.back();
    EXPECT_EQ(req.opcode, 0x0F);
    EXPECT_EQ(to_hex(req.data), "006a0e00" "00000000");  // 944640, old rate 0
    // And the session goes on at the new rate.
    EXPECT_TRUE(rom.execute(spi_attach(), 3s, "attach"));
}

TEST(RomBaudSwitch, C2With26MHzCrystal) {
    fake_rom dev(chip::esp32c2);
    dev.registers[0x60000014] = 226;  // UART divider at 115200: 226 × 115200 ≈ 26 MHz
    dev.baud_effect = [](std::uint32_t told) { return static_cast<std::uint32_t>(std::uint64_t{told} * 26 / 40); };
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    ASSERT_TRUE(connect(rom, {}));
    auto id = detect_chip(rom, nullptr);
    ASSERT_TRUE(id);
    auto baud = change_baud(rom, *id, 921600);
    ASSERT_TRUE(baud) << baud.error().message;
    EXPECT_EQ(baud->told_rom, 921600u * 40 / 26);
    EXPECT_TRUE(rom.execute(spi_attach(), 3s, "attach"));
}

TEST(RomDetect, ByMagicAndByChipId) {
    for (chip c : {chip::esp8266, chip::esp32, chip::esp32s2, chip::esp32s3, chip::esp32c3, chip::esp32c6,
                   chip::esp32h2, chip::esp32p4}) {
        fake_rom dev(c);
        fake_port p(&dev);
        log_sink& log = otaflash::null_log();
        loader rom(p, log);
        auto id = detect_chip(rom, nullptr);
        ASSERT_TRUE(id) << name(c) << ": " << id.error().message;
        EXPECT_EQ(id->chip->id, c) << name(c);
        EXPECT_EQ(rom.status_length(), info(c).rom_status_length);
    }
}

TEST(RomDetect, UnknownMagicFallsBackToSecurityInfo) {
    fake_rom dev(chip::esp32s3);
    dev.override_magic = 0x12345678;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    auto id = detect_chip(rom, nullptr);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->chip->id, chip::esp32s3);
    EXPECT_EQ(id->how, "chip id 9 (GET_SECURITY_INFO)");
}

TEST(RomDetect, WrongChipOptionIsRefused) {
    fake_rom dev(chip::esp32c3);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    auto id = detect_chip(rom, &info(chip::esp32));
    ASSERT_FALSE(id);
    EXPECT_EQ(id.error().code, errc::chip_mismatch);
    EXPECT_EQ(id.error().message, "the device is an ESP32-C3, not the ESP32 that --chip names");
}

TEST(RomDetect, SecureDownloadModeS2) {
    fake_rom dev(chip::esp32s2);
    dev.refuse_read_reg = true;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    loader rom(p, log);
    auto id = detect_chip(rom, nullptr);
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(id->chip->id, chip::esp32s2);
    ASSERT_TRUE(id->security);
    EXPECT_TRUE(id->security->secure_download_mode());
}

// --- the flash job --------------------------------------------------------------------------------

TEST(RomFlash, Esp32PlainWriteVerifiedByMd5) {
    fake_rom dev(chip::esp32);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    const bytes image = random_bytes(5000, 1);
    flash_request req = request_for(image, 0x10000);
    req.compress = false;
    auto out = flash_regions(p, log, req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    ASSERT_EQ(out.report.regions.size(), 1u);
    const auto& r = out.report.regions[0];
    EXPECT_TRUE(r.verified);
    EXPECT_FALSE(r.stats.compressed);
    EXPECT_EQ(r.stats.blocks, 5u);
    EXPECT_EQ(r.written_size, 5000u);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin() + 0x10000));
    EXPECT_EQ(dev.flash[0x10000 + 5000], 0xFF);  // the padding of the last block is erased flash
    EXPECT_EQ(out.report.baud->rate, 921600u);
    EXPECT_EQ(p.baud_changes, std::vector<std::uint32_t>{921600});
    EXPECT_EQ(dev.rom_baud, 921600u);
    // FLASH_BEGIN asked the ROM to erase exactly the bytes written (ESP32: no quirk) in 4 words.
    EXPECT_EQ(dev.begin_erase_size, 5000u);
    EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x04), 0);  // no FLASH_END until the reset
    EXPECT_EQ(out.report.after, "hard reset (RTS)");
    EXPECT_EQ(p.line_changes.back(), std::make_pair(false, false));
}

TEST(RomFlash, Esp32DeflateWriteAndUnalignedOffset) {
    fake_rom dev(chip::esp32s3);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    const bytes image = text_like(20000);
    flash_request req = request_for(image, 0x10800);
    dev.flash[0x10000] = 0x00;  // the lead of the sector is erased as esptool does
    auto out = flash_regions(p, log, req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    const auto& r = out.report.regions[0];
    EXPECT_TRUE(r.stats.compressed);
    EXPECT_LT(r.stats.sent, 20000u);
    EXPECT_TRUE(r.verified);
    EXPECT_EQ(r.written_offset, 0x10000u);
    EXPECT_EQ(r.written_size, 0x800u + 20000u);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin() + 0x10800));
    EXPECT_EQ(dev.flash[0x10000], 0xFF);
    // S3 ROM: the encrypted word is there (the fake refuses a 16-byte begin on this chip).
    EXPECT_EQ(dev.requests.at(std::find(dev.opcodes.begin(), dev.opcodes.end(), 0x10) - dev.opcodes.begin()).data.size(), 20u);
}

TEST(RomFlash, Esp8266StaysAt115200UsesTheEraseQuirkAndCannotVerify) {
    fake_rom dev(chip::esp8266);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    const bytes image = random_bytes(300032, 3);
    flash_request req = request_for(image, 0);
    auto out = flash_regions(p, log, req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.baud->rate, 115200u);
    EXPECT_NE(out.report.baud->note.find("cannot change the baud rate"), std::string::npos);
    EXPECT_TRUE(p.baud_changes.empty());
    EXPECT_FALSE(out.report.can_verify);
    EXPECT_FALSE(out.report.regions[0].verified);
    EXPECT_FALSE(out.report.regions[0].stats.compressed);  // no deflate in this ROM
    EXPECT_EQ(dev.begin_erase_size, 0x3A000u);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin()));
    // Neither MD5 nor SPI_ATTACH went to this ROM.
    EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x13), 0);
    EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x0D), 0);
}

TEST(RomFlash, FlippedByteIsCaughtAndLocated) {
    fake_rom dev(chip::esp32c3);
    dev.flip_offset = 0x12345;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    bytes image = random_bytes(0x8000, 4);
    auto out = flash_regions(p, log, request_for(image, 0x10000), null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::flash_md5_mismatch);
    const std::string& m = out.error->message;
    EXPECT_NE(m.find("first difference at 0x00012345"), std::string::npos) << m;
    EXPECT_NE(m.find("in 0x00012000–0x00012fff"), std::string::npos) << m;
    EXPECT_FALSE(out.report.regions.at(0).verified);
    EXPECT_TRUE(out.report.after.empty());  // no reset after a failure
}

TEST(RomFlash, BlockErrorStopsTheWriteAndNamesTheBlock) {
    fake_rom dev(chip::esp32);
    dev.fail_block = 3;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    flash_request req = request_for(random_bytes(8192, 5), 0x20000);
    req.compress = false;
    auto out = flash_regions(p, log, req, null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::rom_error);
    EXPECT_EQ(out.error->message,
              "the ROM failed to write block 4 of 8 (0x00020c00): 0x08 flash write error (the ROM read back different "
              "data) (3 attempts)");
    EXPECT_TRUE(out.report.regions.empty());
    EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x03), 3 + 3);  // blocks 0-2, then block 3 three times
}

TEST(RomFlash, BlockRefusedOnceIsSentAgain) {
    fake_rom dev(chip::esp32);
    dev.fail_block = 5;
    dev.fail_block_times = 1;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    const bytes image = random_bytes(8192, 5);
    flash_request req = request_for(image, 0x20000);
    req.compress = false;
    auto out = flash_regions(p, log, req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.regions[0].stats.retries, 1);
    EXPECT_TRUE(out.report.regions[0].verified);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin() + 0x20000));
}

TEST(RomFlash, ChecksumErrorIsRetriedThenSucceeds) {
    fake_rom dev(chip::esp32);
    dev.fail_block = 1;
    dev.fail_block_error = 0x07;
    dev.fail_block_times = 2;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    flash_request req = request_for(random_bytes(4096, 6));
    req.compress = false;
    auto out = flash_regions(p, log, req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.regions[0].stats.retries, 2);
    EXPECT_TRUE(out.report.regions[0].verified);
}

TEST(RomFlash, SilentRomTimesOutWithoutHanging) {
    fake_rom dev(chip::esp32);
    dev.silent_after_block = 2;
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    const auto start = p.now();
    auto out = flash_regions(p, log, request_for(random_bytes(0x4000, 7)), null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::rom_timeout);
    EXPECT_LT(p.now() - start, 10s);
}

TEST(RomFlash, ImageForAnotherChipIsRefusedBeforeErasing) {
    fake_rom dev(chip::esp32c3);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    bytes image = test::read_fixture_image("helloworld-esp32.bin");
    auto out = flash_regions(p, log, request_for(image, 0x10000), null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::chip_mismatch);
    EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x02), 0);
    EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x10), 0);

    fake_rom dev2(chip::esp32c3);
    fake_port p2(&dev2);
    flash_request forced = request_for(image, 0x10000);
    forced.force = true;
    auto out2 = flash_regions(p2, log, forced, null_progress());
    ASSERT_FALSE(out2.error) << out2.error->message;
    ASSERT_FALSE(out2.report.warnings.empty());
    EXPECT_NE(out2.report.warnings[0].find("--force"), std::string::npos);
}

TEST(RomFlash, NoModemLinesStartsTheApplicationThroughTheRom) {
    fake_rom dev(chip::esp32);
    fake_port p(&dev);
    p.has_lines = false;
    log_sink& log = otaflash::null_log();
    auto out = flash_regions(p, log, request_for(random_bytes(1000, 8)), null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.after, "application started by the ROM (FLASH_END)");
    EXPECT_TRUE(dev.ran_application);
}

TEST(RomFlash, FlashSizeComesFromTheFlashChip) {
    for (chip c : {chip::esp32, chip::esp8266, chip::esp32c3}) {
        fake_rom dev(c, 8u << 20);
        fake_port p(&dev);
        flash_request req = request_for(random_bytes(2000, 12), 0x700000);  // past the 2 MiB a ROM assumes
        req.flash_size.reset();
        auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
        ASSERT_FALSE(out.error) << name(c) << ": " << out.error->message;
        EXPECT_EQ(out.report.flash_size, 8u << 20);
        EXPECT_EQ(out.report.flash_size_source, "the flash chip (JEDEC ID 0x1740ef)");
        // ESP32-family ROMs were told the size before the write (SPI_SET_PARAMS), the ESP8266 was not.
        EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x0B), info(c).rom_spi_attach ? 1 : 0);
    }
    // A flash that does not answer: the size is unknown, and a write past 2 MiB is refused.
    fake_rom dev(chip::esp32, 8u << 20);
    dev.jedec_answer = 0xFFFFFF;
    fake_port p(&dev);
    flash_request req = request_for(random_bytes(2000, 12), 0x700000);
    req.flash_size.reset();
    auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::image_too_large);
    ASSERT_FALSE(out.report.warnings.empty());
    EXPECT_EQ(out.report.warnings[0], "the flash chip did not answer when asked for its ID");
}

// Boost.MySQL-style: fail the port at every step of a good run; each must end in a failure (never
// in a report of success), with the injected code, and without the clock running away.
TEST(RomFlash, FailureInjectedAtEveryStep) {
    for (chip c : {chip::esp32, chip::esp8266}) {
        fake_rom good_dev(c);
        fake_port good(&good_dev);
        log_sink& log = otaflash::null_log();
        const bytes image = random_bytes(3000, 9);
        flash_request req = request_for(image, 0);
        ASSERT_FALSE(flash_regions(good, log, req, null_progress()).error);
        const int steps = good.steps;
        ASSERT_GT(steps, 20);
        for (int n = 1; n <= steps; ++n) {
            fake_rom dev(c);
            fake_port p(&dev);
            p.fail_at_step = n;
            p.fail_with = errc::interrupted_sigterm;
            const auto start = p.now();
            auto out = flash_regions(p, log, req, null_progress());
            ASSERT_TRUE(out.error) << name(c) << " step " << n << " of " << steps;
            EXPECT_EQ(out.error->code, errc::interrupted_sigterm) << name(c) << " step " << n << ": " << out.error->message;
            EXPECT_LT(p.now() - start, 60s);
        }
    }
}

// The ROM refuses each request of a good run in turn. Refusals of probes the job can do without
// (security info, crystal registers, the flash ID) may still end in success, and a refused block
// is sent again; but whenever the job reports success, the flash holds the image.
TEST(RomFlash, RomRefusalAtEveryStepNeverYieldsAFalseSuccess) {
    for (chip c : {chip::esp32s3, chip::esp8266}) {
        const bytes image = random_bytes(2500, 13);
        fake_rom good_dev(c);
        fake_port good(&good_dev);
        ASSERT_FALSE(flash_regions(good, otaflash::null_log(), request_for(image, 0x3000), null_progress()).error);
        const std::size_t requests = good_dev.requests.size();
        int failures = 0;
        for (std::size_t n = 0; n < requests; ++n) {
            fake_rom dev(c);
            dev.refuse_request = n;
            fake_port p(&dev);
            auto out = flash_regions(p, otaflash::null_log(), request_for(image, 0x3000), null_progress());
            if (out.error) {
                ++failures;
                EXPECT_NE(condition_of(out.error->code), condition::internal) << out.error->message;
                continue;
            }
            EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin() + 0x3000))
                << name(c) << ": success reported with request " << n << " refused";
            if (info(c).rom_md5) {
                EXPECT_TRUE(out.report.regions.at(0).verified);
            }
        }
        EXPECT_GE(failures, 2) << name(c);  // at least attaching the flash and the region's FLASH_BEGIN
    }
}

TEST(RomVerify, FailureInjectedAtEveryStep) {
    fake_rom good_dev(chip::esp32);
    const bytes image = random_bytes(5000, 14);
    std::copy(image.begin(), image.end(), good_dev.flash.begin() + 0x8000);
    verify_request req;
    req.regions.push_back({0x8000, image, "a.bin"});
    fake_port good(&good_dev);
    ASSERT_FALSE(verify_regions(good, otaflash::null_log(), req, null_progress()).error);
    for (int n = 1; n <= good.steps; ++n) {
        fake_rom dev(chip::esp32);
        std::copy(image.begin(), image.end(), dev.flash.begin() + 0x8000);
        fake_port p(&dev);
        p.fail_at_step = n;
        auto out = verify_regions(p, otaflash::null_log(), req, null_progress());
        ASSERT_TRUE(out.error) << "step " << n;
        EXPECT_EQ(out.error->code, errc::connection_lost) << "step " << n << ": " << out.error->message;
    }
}

// --- the verify job -------------------------------------------------------------------------------

TEST(RomVerify, MatchAndMismatch) {
    fake_rom dev(chip::esp32);
    const bytes image = random_bytes(0x3001, 10);  // padded to 4 with 0xFF for the comparison
    std::copy(image.begin(), image.end(), dev.flash.begin() + 0x1000);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    verify_request req;
    req.regions.push_back({0x1000, image, "boot.bin"});
    req.connect.attempts = 1;
    auto ok = verify_regions(p, log, req, null_progress());
    ASSERT_FALSE(ok.error) << ok.error->message;
    EXPECT_TRUE(ok.report.regions.at(0).match);
    EXPECT_EQ(ok.report.regions[0].size, 0x3004u);

    dev.flash[0x1000 + 0x2ABC] ^= 0x01;
    dev.rom_baud = 115200;  // the reset at the end brought the chip back to its boot rate
    fake_port p2(&dev);
    auto bad = verify_regions(p2, log, req, null_progress());
    ASSERT_TRUE(bad.error);
    EXPECT_EQ(bad.error->code, errc::flash_md5_mismatch);
    ASSERT_TRUE(bad.report.regions.at(0).first_difference);
    EXPECT_EQ(bad.report.regions[0].first_difference->first_byte, 0x3ABCu);
}

TEST(RomVerify, Esp8266SaysPlainlyItCannot) {
    fake_rom dev(chip::esp8266);
    fake_port p(&dev);
    log_sink& log = otaflash::null_log();
    verify_request req;
    req.regions.push_back({0, bytes(100, 1), "app.bin"});
    auto out = verify_regions(p, log, req, null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::verify_unsupported);
    EXPECT_EQ(out.error->message, "the ESP8266 ROM cannot verify flash without a flasher stub: nothing was compared");
    EXPECT_EQ(std::count(dev.opcodes.begin(), dev.opcodes.end(), 0x13), 0);
}
