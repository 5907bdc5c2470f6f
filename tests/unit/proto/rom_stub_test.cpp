// The flasher-stub path of the ROM jobs against the fake port: upload and greeting, 16 KiB blocks,
// the end barrier, the stub's own MD5 and baud switch, and every way a stub can let us down.

#include <otaflash/proto/rom/flasher.hpp>
#include <otaflash/proto/rom/stub.hpp>
#include <otaflash/util/hex.hpp>

#include "fixtures.hpp"
#include "rom_fakes.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::rom;
using namespace std::chrono_literals;
using otaflash::test::fake_port;
using otaflash::test::fake_rom;
using otaflash::test::random_bytes;

namespace {

// A stub's shape: code with the entry inside, and a data segment. The fake runs "any code whose
// entry is inside it" as a stub, so the bytes themselves only have to arrive intact.
flasher_stub test_stub() {
    flasher_stub s;
    s.source = "test-stub.json";
    s.segments.push_back({0x40090000, random_bytes(0x1800 * 2 + 100, 21)});  // three MEM_DATA blocks
    s.segments.push_back({0x3FFE0000, random_bytes(300, 22)});
    s.entry = 0x40090010;
    return s;
}

// The same stub moved to where `c` has its instruction and data RAM (stubs are made per chip, and
// one for another chip is refused).
flasher_stub placed_for(flasher_stub s, const chip_info& c) {
    if (in_ram(c, s.segments[0].address, s.segments[0].data.size(), true)) return s;  // already at home (ESP32)
    auto first = [&](auto wanted) {
        for (const auto& r : c.memory_map)
            if (wanted(r.kind)) return r.start;
        return std::uint32_t{0};
    };
    const std::uint32_t text = first(is_executable_ram), data = first([](region_kind k) { return k == region_kind::dram || k == region_kind::sram; });
    s.entry = text + (s.entry - s.segments[0].address);
    s.segments[0].address = text;
    s.segments[1].address = data + 0x1000;
    return s;
}

flash_request stub_request(bytes data, std::uint32_t offset, flasher_stub stub = test_stub()) {
    flash_request r;
    r.regions.push_back({offset, std::move(data), "app.bin"});
    r.connect.strategies = connect_strategies(before_reset::default_reset);
    r.connect.attempts = 2;
    r.flash_size = 4u << 20;
    r.stub_for = [stub](const chip_info& c, std::vector<std::string>&) -> result<std::optional<flasher_stub>> {
        return std::optional<flasher_stub>(placed_for(stub, c));
    };
    return r;
}

std::size_t count_op(const fake_rom& dev, opcode op) {
    return static_cast<std::size_t>(std::count(dev.opcodes.begin(), dev.opcodes.end(), static_cast<std::uint8_t>(op)));
}

std::size_t first_op(const fake_rom& dev, opcode op) {
    return static_cast<std::size_t>(std::find(dev.opcodes.begin(), dev.opcodes.end(), static_cast<std::uint8_t>(op)) -
                                    dev.opcodes.begin());
}

}  // namespace

TEST(RomStub, CommandsAreByteExact) {
    const command begin = mem_begin(0x3100, 3, ram_block_size, 0x40090000);
    EXPECT_EQ(to_hex(frame(begin)), "c0000510000000000000310000030000000018000000000940c0");
    EXPECT_EQ(to_hex(mem_end(0x40090010).payload), "0000000010000940");
    EXPECT_EQ(to_hex(mem_end(std::nullopt).payload), "0100000000000000");
    EXPECT_EQ(to_hex(stub_spi_attach().payload), "00000000");
    EXPECT_EQ(spi_flash_md5(0, 16, stub_md5_length).reply_payload, 16u);
}

TEST(RomStub, ProblemsAreNamed) {
    flasher_stub s = test_stub();
    EXPECT_FALSE(stub_problem(s));
    s.entry = 0x50000000;
    EXPECT_EQ(*stub_problem(s), "its entry point 0x50000000 lies outside its own code");
    s.segments.clear();
    EXPECT_EQ(*stub_problem(s), "it holds no code");
}

// Issue 12 item 23: esptool's stub addresses (text_start / data_start of stub_flasher_8266.json
// and stub_flasher_32.json) against the chips' memory maps.
TEST(RomStub, AStubForAnotherChipDoesNotFitItsMemoryMap) {
    flasher_stub esp8266_stub;
    esp8266_stub.segments = {{0x4010E000, bytes(0x1F00)}, {0x3FFFACA0, bytes(0x300)}};
    esp8266_stub.entry = 0x4010E004;
    flasher_stub esp32_stub;
    esp32_stub.segments = {{0x400BE000, bytes(0x1D00)}, {0x3FFEBA00, bytes(0x300)}};
    esp32_stub.entry = 0x400BE598;
    EXPECT_FALSE(stub_misfit(esp8266_stub, info(chip::esp8266)));
    EXPECT_FALSE(stub_misfit(esp32_stub, info(chip::esp32)));
    EXPECT_EQ(stub_misfit(esp8266_stub, info(chip::esp32)), "its 7936 bytes at 0x4010e000 are not in the ESP32's RAM");
    EXPECT_EQ(stub_misfit(esp32_stub, info(chip::esp8266)), "its 7424 bytes at 0x400be000 are not in the ESP8266's RAM");
    EXPECT_TRUE(stub_misfit(esp32_stub, info(chip::esp32c3)));
    flasher_stub data_entry = esp32_stub;
    data_entry.entry = 0x3FFEBA00;  // inside its data: not executable RAM
    EXPECT_EQ(stub_misfit(data_entry, info(chip::esp32)), "its entry point 0x3ffeba00 is not in the ESP32's instruction RAM");
    flasher_stub overrun = esp32_stub;
    overrun.segments[0].data.resize(0x3000);  // runs past the end of IRAM at 0x400C0000
    EXPECT_TRUE(stub_misfit(overrun, info(chip::esp32)));
}

TEST(RomStub, Esp32SwitchesInTheRomUploadsThenWritesSixteenKiBBlocks) {
    fake_rom dev(chip::esp32);
    fake_port p(&dev);
    const bytes image = random_bytes(40000, 23);
    flash_request req = stub_request(image, 0x10000);
    req.compress = false;
    auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.stub, "test-stub.json");
    // Every stub byte arrived where it belongs.
    ASSERT_EQ(dev.ram.size(), 2u);
    EXPECT_EQ(dev.ram[0].first, 0x40090000u);
    EXPECT_EQ(dev.ram[0].second, test_stub().segments[0].data);
    EXPECT_EQ(dev.ram[1].second, test_stub().segments[1].data);
    EXPECT_EQ(count_op(dev, opcode::mem_data), 4u);
    // The ROM switched the rate first (with its crystal correction), so the stub loaded fast.
    EXPECT_LT(first_op(dev, opcode::change_baudrate), first_op(dev, opcode::mem_begin));
    EXPECT_EQ(count_op(dev, opcode::change_baudrate), 1u);
    EXPECT_EQ(p.baud_changes, std::vector<std::uint32_t>{921600});
    const auto& r = out.report.regions.at(0);
    EXPECT_EQ(r.stats.blocks, 3u);  // 40000 bytes in 0x4000 blocks
    EXPECT_TRUE(r.verified);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin() + 0x10000));
    // FLASH_BEGIN said the exact size in four words; FLASH_END(stay) waited for the last block.
    const auto& begin = dev.requests.at(first_op(dev, opcode::flash_begin));
    EXPECT_EQ(begin.data.size(), 16u);
    EXPECT_EQ(load_le32(begin.data.data()), 40000u);
    const std::size_t end = first_op(dev, opcode::flash_end);
    ASSERT_LT(end, dev.opcodes.size());
    EXPECT_EQ(load_le32(dev.requests[end].data.data()), 1u);
    EXPECT_LT(end, first_op(dev, opcode::spi_flash_md5));
    EXPECT_EQ(out.report.after, "hard reset (RTS)");
}

// 40000 bytes are three blocks; 16 KiB ones would pad the last with 9152 bytes of 0xFF on the wire.
TEST(RomStub, PlainBlocksCutTheRegionEvenlyWhereTheStubTakesIt) {
    const bytes image = random_bytes(40000, 31);
    fake_rom newer(chip::esp32);
    newer.stub_any_block_size = true;
    fake_port p(&newer);
    flash_request req = stub_request(image, 0x10000);
    req.compress = false;
    auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.regions.at(0).stats.blocks, 3u);
    EXPECT_EQ(out.report.regions[0].stats.sent, 3u * 13336u);  // ceil(40000 / 3) up to whole words
    EXPECT_EQ(count_op(newer, opcode::flash_begin), 1u);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), newer.flash.begin() + 0x10000));
    EXPECT_TRUE(out.report.regions[0].verified);

    fake_rom legacy(chip::esp32);  // refuses 13336 with "bad block size": 16 KiB as esptool sends
    fake_port q(&legacy);
    auto again = flash_regions(q, otaflash::null_log(), req, null_progress());
    ASSERT_FALSE(again.error) << again.error->message;
    EXPECT_EQ(again.report.regions.at(0).stats.sent, 3u * 0x4000u);
    EXPECT_EQ(count_op(legacy, opcode::flash_begin), 2u);
    EXPECT_TRUE(again.report.regions[0].verified);
}

TEST(RomStub, Esp8266GetsDeflateMd5AndTheFastRateThroughTheStub) {
    fake_rom dev(chip::esp8266);
    fake_port p(&dev);
    bytes image(70000, 0);
    for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<std::uint8_t>((i * 7) % 251 < 40 ? i : 0);
    flash_request req = stub_request(image, 0);
    auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    // The ROM cannot switch; the stub can, told the old rate too.
    EXPECT_EQ(out.report.baud->rate, 921600u);
    EXPECT_TRUE(out.report.baud->note.empty());
    const auto& change = dev.requests.at(first_op(dev, opcode::change_baudrate));
    EXPECT_EQ(load_le32(change.data.data() + 4), 115200u);
    EXPECT_GT(first_op(dev, opcode::change_baudrate), first_op(dev, opcode::mem_end));
    EXPECT_TRUE(out.report.can_verify);
    const auto& r = out.report.regions.at(0);
    EXPECT_TRUE(r.stats.compressed);
    EXPECT_TRUE(r.verified);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin()));
    // No erase-size quirk for the stub: DEFL_BEGIN carries the exact size; FLASH_DEFL_END(stay) after.
    EXPECT_EQ(load_le32(dev.requests.at(first_op(dev, opcode::flash_defl_begin)).data.data()), 70000u);
    EXPECT_EQ(count_op(dev, opcode::flash_defl_end), 1u);
}

TEST(RomStub, VerifyOnEsp8266WorksWithAStubAndLocatesTheSector) {
    fake_rom dev(chip::esp8266);
    const bytes image = random_bytes(0x5000, 24);
    std::copy(image.begin(), image.end(), dev.flash.begin() + 0x20000);
    dev.flash[0x20000 + 0x3456] ^= 0x10;
    fake_port p(&dev);
    verify_request req;
    req.regions.push_back({0x20000, image, "app.bin"});
    req.stub_for = [](const chip_info& c, std::vector<std::string>&) -> result<std::optional<flasher_stub>> {
        return std::optional<flasher_stub>(placed_for(test_stub(), c));
    };
    auto out = verify_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::flash_md5_mismatch);
    ASSERT_TRUE(out.report.regions.at(0).first_difference);
    EXPECT_EQ(out.report.regions[0].first_difference->start, 0x23000u);  // a sector: the stub has no slow read
    EXPECT_FALSE(out.report.regions[0].first_difference->first_byte);
    // A failed verify ends without the after-action; a reset brings the chip back to its ROM.
    dev.flash[0x20000 + 0x3456] ^= 0x10;
    dev.stub_running = false;
    dev.rom_baud = 115200;
    fake_port p2(&dev);
    auto good = verify_regions(p2, otaflash::null_log(), req, null_progress());
    ASSERT_FALSE(good.error) << good.error->message;
    EXPECT_TRUE(good.report.regions.at(0).match);
}

TEST(RomStub, AStubThatNeverGreetsEndsTheJobWithinItsWait) {
    fake_rom dev(chip::esp32c3);
    dev.runs_stubs = false;
    fake_port p(&dev);
    const auto start = p.now();
    auto out = flash_regions(p, otaflash::null_log(), stub_request(random_bytes(1000, 25), 0x10000), null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::stub_start_failed);
    EXPECT_NE(out.error->message.find("test-stub.json did not start"), std::string::npos) << out.error->message;
    EXPECT_NE(out.error->hint.find("--stub none"), std::string::npos);
    EXPECT_TRUE(out.report.regions.empty());
    EXPECT_EQ(count_op(dev, opcode::flash_begin), 0u);
    EXPECT_LT(p.now() - start, 10s);
}

TEST(RomStub, AStubWithItsEntryOutsideItsCodeIsNotUploaded) {
    fake_rom dev(chip::esp32);
    fake_port p(&dev);
    flasher_stub bad = test_stub();
    bad.entry = 0x40000000;
    auto out = flash_regions(p, otaflash::null_log(), stub_request(random_bytes(100, 26), 0x10000, bad), null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::config_invalid);
    EXPECT_EQ(count_op(dev, opcode::mem_begin), 0u);
}

TEST(RomStub, AWriteErrorToldLateFailsTheJobNamingBothBlocks) {
    fake_rom dev(chip::esp32s3);
    dev.stub_write_error_block = 1;
    fake_port p(&dev);
    flash_request req = stub_request(random_bytes(0x4000 * 4, 27), 0x10000);
    req.compress = false;
    auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->code, errc::rom_error);
    EXPECT_NE(out.error->message.find("write block 3 of 4"), std::string::npos) << out.error->message;
    EXPECT_NE(out.error->message.find("or to program the block before it"), std::string::npos);
    EXPECT_TRUE(out.report.regions.empty());
    // Not retried: sending block 3 again would hide the loss of block 2.
    EXPECT_EQ(count_op(dev, opcode::flash_data), 3u);
}

TEST(RomStub, WriteErrorOfTheLastBlockSurfacesAtTheBarrier) {
    fake_rom dev(chip::esp32);
    dev.stub_write_error_block = 1;
    fake_port p(&dev);
    flash_request req = stub_request(random_bytes(0x4000 + 10, 28), 0);
    req.compress = false;
    auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_TRUE(out.error);
    EXPECT_NE(out.error->message.find("program the last block"), std::string::npos) << out.error->message;
}

TEST(RomStub, NoResetReturnsToTheRomThroughASoftwareReboot) {
    fake_rom dev(chip::esp32);
    fake_port p(&dev);
    flash_request req = stub_request(random_bytes(5000, 29), 0x10000);
    req.after = after_action::no_reset;
    auto out = flash_regions(p, otaflash::null_log(), req, null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.after, "software reset by the flasher stub");
    EXPECT_FALSE(dev.stub_running);
    EXPECT_EQ(load_le32(dev.requests.back().data.data()), 0u);  // FLASH_END(reboot)
}

TEST(RomStub, FailureInjectedAtEveryStepNeverSucceeds) {
    const bytes image = random_bytes(20000, 30);
    for (chip c : {chip::esp32, chip::esp8266}) {
        fake_rom good_dev(c);
        fake_port good(&good_dev);
        ASSERT_FALSE(flash_regions(good, otaflash::null_log(), stub_request(image, 0), null_progress()).error);
        for (int n = 1; n <= good.steps; ++n) {
            fake_rom dev(c);
            fake_port p(&dev);
            p.fail_at_step = n;
            p.fail_with = errc::interrupted_sigint;
            auto out = flash_regions(p, otaflash::null_log(), stub_request(image, 0), null_progress());
            ASSERT_TRUE(out.error) << name(c) << " step " << n << " of " << good.steps;
            EXPECT_EQ(out.error->code, errc::interrupted_sigint) << out.error->message;
        }
    }
}

TEST(RomStub, SecureDownloadModeKeepsTheRomAndSaysWhy) {
    fake_rom dev(chip::esp32s3);
    dev.refuse_read_reg = true;  // Secure Download Mode
    fake_port p(&dev);
    const bytes image = random_bytes(3000, 32);
    auto out = flash_regions(p, otaflash::null_log(), stub_request(image, 0x10000), null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_TRUE(out.report.stub.empty());
    EXPECT_EQ(count_op(dev, opcode::mem_begin), 0u);
    EXPECT_NE(std::find(out.report.warnings.begin(), out.report.warnings.end(),
                        "Secure Download Mode forbids a flasher stub: the ROM does the work"),
              out.report.warnings.end());
    EXPECT_FALSE(out.report.can_verify);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin() + 0x10000));
}

TEST(RomStub, AStubLeftRunningIsUsedNotUploadedAgain) {
    fake_rom dev(chip::esp32);
    dev.stub_running = true;  // an earlier run was interrupted after starting it
    fake_port p(&dev);
    const bytes image = random_bytes(30000, 33);
    auto out = flash_regions(p, otaflash::null_log(), stub_request(image, 0x8000), null_progress());
    ASSERT_FALSE(out.error) << out.error->message;
    EXPECT_EQ(out.report.stub, "already running");
    EXPECT_EQ(count_op(dev, opcode::mem_begin), 0u);
    EXPECT_EQ(out.report.baud->rate, 921600u);
    EXPECT_EQ(load_le32(dev.requests.at(first_op(dev, opcode::change_baudrate)).data.data() + 4), 115200u);
    EXPECT_TRUE(out.report.regions.at(0).verified);
    EXPECT_TRUE(std::equal(image.begin(), image.end(), dev.flash.begin() + 0x8000));
}
