// otaflash-rom-device as a user runs it: a child process serving a real pty, driven by a client
// that follows the protocol notes, checked through its events, its flash dump and the clock.

#include "notes_client.hpp"

#include <fixtures.hpp>
#include <rom_device_process.hpp>
#include <subprocess.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <thread>

using namespace otaflash;
using namespace otaflash::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

bytes words(std::initializer_list<std::uint32_t> values) {
    bytes out;
    for (auto v : values) append_le32(out, v);
    return out;
}

bytes pattern(std::size_t n, std::uint32_t seed) {
    bytes out(n);
    for (auto& b : out) {
        seed = seed * 1103515245u + 12345u;
        b = static_cast<std::uint8_t>(seed >> 16);
    }
    return out;
}

const std::vector<std::string> instant_flash = {"--erase-rate", "0", "--block-erase-rate", "0", "--write-rate", "0",
                                                "--read-rate", "0"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

process_options quick() {
    process_options o;
    o.timeout = 5s;
    return o;
}

bool s2_or_later(const std::string& chip) { return chip == "esp32s2" || chip == "esp32s3" || chip == "esp32c3"; }

// §9.5 steps 2–8 for the ESP32 family (ESP8266: FLASH_BEGIN(0,0) as attach, §4.2 erase size).
void write_image(notes_client& c, const std::string& chip, std::uint32_t offset, bytes image) {
    image.resize((image.size() + 3) / 4 * 4, 0xFF);
    const bool esp8266 = chip == "esp8266";
    const std::size_t status_len = esp8266 ? 2 : 4;
    if (esp8266) {
        auto r = c.call(0x02, words({0, 0, 0x400, 0}));
        ASSERT_TRUE(r);
    } else {
        auto r = c.call(0x0D, bytes(8, 0));
        ASSERT_TRUE(r);
        EXPECT_EQ(notes_client::status(*r).first, 0);
        r = c.call(0x0B, words({0, 4u << 20, 0x10000, 0x1000, 0x100, 0xFFFF}));
        ASSERT_TRUE(r);
    }
    const auto size = static_cast<std::uint32_t>(image.size());
    const std::uint32_t blocks = (size + 0x3FF) / 0x400;
    std::uint32_t erase = size;
    if (esp8266) {  // §4.2 workaround
        const std::uint32_t n = (size + 0xFFF) / 0x1000, start = offset / 0x1000;
        const std::uint32_t head = std::min(16 - start % 16, n);
        erase = n < 2 * head ? (n + 1) / 2 * 0x1000 : (n - head) * 0x1000;
    }
    bytes begin = words({erase, blocks, 0x400, offset});
    if (s2_or_later(chip)) append_le32(begin, 0);
    auto r = c.call(0x02, begin, 0, 10s);
    ASSERT_TRUE(r) << "FLASH_BEGIN";
    ASSERT_EQ(notes_client::status(*r).first, 0);
    ASSERT_EQ(r->data.size(), status_len);
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        bytes block(image.begin() + seq * 0x400, image.begin() + std::min<std::size_t>(size, (seq + 1) * 0x400));
        block.resize(0x400, 0xFF);
        r = c.call(0x03, notes_client::data_packet(seq, block), notes_client::checksum(block));
        ASSERT_TRUE(r) << "block " << seq;
        ASSERT_EQ(notes_client::status(*r), (std::pair{0, 0})) << "block " << seq;
    }
}

std::string device_md5(notes_client& c, std::uint32_t offset, std::uint32_t size) {
    auto r = c.call(0x13, words({offset, size, 0, 0}));
    if (!r || r->data.size() < 34 || notes_client::status(*r, 32).first != 0) return "no md5";
    return std::string(r->data.begin(), r->data.begin() + 32);
}

TEST(RomDevice, WritesARealImageOnEveryChipAndDumpsTheFlashByteForByte) {
    const std::pair<std::string, std::string> cases[] = {{"esp32", "bootloader_esp32.bin"},
                                                         {"esp32c3", "bootloader_esp32c3.bin"},
                                                         {"esp8266", "bootloader_esp8266.bin"},
                                                         {"esp32s2", "helloworld-esp32.bin"},
                                                         {"esp32s3", "helloworld-esp32.bin"}};
    for (const auto& [chip, fixture] : cases) {
        SCOPED_TRACE(chip);
        temp_dir dir;
        const std::string dump = dir.file("flash.bin");
        rom_device_process dev(with({"--chip", chip, "--flash-file", dump, "--no-wire-delay"}, instant_flash));
        EXPECT_EQ(dev.ready.at("chip"), chip);
        EXPECT_EQ(dev.ready.at("rfc2217"), nullptr);
        notes_client c(dev.pty);
        ASSERT_EQ(c.sync(), 8);
        const std::uint32_t magic = chip == "esp8266" ? 0xFFF0C101 : chip == "esp32" ? 0x00F01D83 : 0;
        auto reg = c.call(0x0A, words({0x40001000}));
        ASSERT_TRUE(reg);
        if (magic) {
            EXPECT_EQ(reg->value, magic);
        }
        const bytes image = read_fixture_image(fixture);
        write_image(c, chip, 0x1000, image);
        bytes padded = image;
        padded.resize((image.size() + 0x3FF) / 0x400 * 0x400, 0xFF);
        auto written = dev.wait_event("flash_written");
        ASSERT_TRUE(written);
        EXPECT_EQ(written->at("offset"), 0x1000);
        EXPECT_EQ(written->at("md5"), to_hex(md5(padded)));
        if (chip != "esp8266") {
            EXPECT_EQ(device_md5(c, 0x1000, static_cast<std::uint32_t>(image.size())), to_hex(md5(image)));
        }
        auto stopped = dev.stop();
        EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
        const bytes flash = slurp(dump);
        ASSERT_EQ(flash.size(), 4u << 20);
        EXPECT_EQ(bytes(flash.begin() + 0x1000, flash.begin() + 0x1000 + image.size()), image);
        EXPECT_EQ(flash[0xFFF], 0xFF);
        EXPECT_EQ(flash[0x1000 + padded.size()], 0xFF);
    }
}

TEST(RomDevice, DeflateWriteAndFlashEndEvent) {
    temp_dir dir;
    const std::string dump = dir.file("flash.bin");
    rom_device_process dev(with({"--chip", "esp32s3", "--flash-file", dump, "--no-wire-delay"}, instant_flash));
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    ASSERT_TRUE(c.call(0x0D, bytes(8, 0)));
    bytes image = read_fixture_image("esp8266_deepsleep.bin");  // any real firmware compresses
    image.resize(64 * 1024);
    uLongf zsize = compressBound(static_cast<uLong>(image.size()));
    bytes z(zsize);
    ASSERT_EQ(compress2(z.data(), &zsize, image.data(), static_cast<uLong>(image.size()), 9), Z_OK);
    z.resize(zsize);
    const auto blocks = static_cast<std::uint32_t>((z.size() + 0x3FF) / 0x400);
    auto r = c.call(0x10, words({0x10000, blocks, 0x400, 0x10000, 0}));
    ASSERT_TRUE(r);
    ASSERT_EQ(notes_client::status(*r).first, 0);
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        bytes block(z.begin() + seq * 0x400, z.begin() + std::min<std::size_t>(z.size(), (seq + 1) * 0x400));
        r = c.call(0x11, notes_client::data_packet(seq, block), notes_client::checksum(block));
        ASSERT_TRUE(r);
        ASSERT_EQ(notes_client::status(*r), (std::pair{0, 0})) << seq;
    }
    EXPECT_EQ(device_md5(c, 0x10000, 0x10000), to_hex(md5(image)));
    r = c.call(0x12, words({1}));  // FLASH_DEFL_END(1): run the application
    ASSERT_TRUE(r);
    auto end = dev.wait_event("flash_end");
    ASSERT_TRUE(end);
    EXPECT_EQ(end->at("size"), 0x10000);
    EXPECT_EQ(end->at("md5"), to_hex(md5(image)));
    EXPECT_EQ(end->at("reboot"), false);
    EXPECT_EQ(dev.wait_event("boot")->at("mode"), "app");
    const bytes flash = slurp(dump);  // dumped at FLASH_DEFL_END already
    EXPECT_EQ(bytes(flash.begin() + 0x10000, flash.begin() + 0x20000), image);
}

// §9.1: 10 bit times per byte. One 1 KiB FLASH_DATA is 1050 bytes out and 14 back: at 115200
// that cannot take less than ~92 ms; at 921600 it is eight times quicker.
TEST(RomDevice, WireTimeFollowsTheBaudRate) {
    rom_device_process dev(with({"--chip", "esp32"}, instant_flash));
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    ASSERT_TRUE(c.call(0x0D, bytes(8, 0)));
    ASSERT_TRUE(c.call(0x02, words({0x2000, 8, 0x400, 0})));
    const auto timed_block = [&](std::uint32_t seq) {
        const bytes block = pattern(0x400, seq + 1);
        const auto start = std::chrono::steady_clock::now();
        auto r = c.call(0x03, notes_client::data_packet(seq, block), notes_client::checksum(block));
        EXPECT_TRUE(r);
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    };
    const double slow = timed_block(0);
    EXPECT_GE(slow, 89.0);
    EXPECT_LT(slow, 1000.0);
    // §6: CHANGE_BAUDRATE, reply at the old rate, then the host switches.
    auto r = c.call(0x0F, words({921600, 0}));
    ASSERT_TRUE(r);
    c.set_baud(B921600);
    std::this_thread::sleep_for(50ms);
    c.flush_input();
    EXPECT_EQ(dev.wait_event("baud")->at("baud"), 921600);
    // The quickest of three, so a busy machine's scheduling hiccup does not count.
    const double fast = std::min({timed_block(1), timed_block(2), timed_block(3)});
    EXPECT_GE(fast, 11.0);
    EXPECT_LT(fast, slow / 3);
}

TEST(RomDevice, AHostThatKeepsTheOldRateAfterChangeBaudrateGetsNoAnswers) {
    rom_device_process dev(with({"--chip", "esp32", "--no-wire-delay"}, instant_flash));
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    ASSERT_TRUE(c.call(0x0F, words({460800, 0})));
    EXPECT_FALSE(c.call(0x0A, words({0x40001000}), 0, 500ms));
    EXPECT_FALSE(c.call(0x0A, words({0x40001000}), 0, 500ms));
    c.set_baud(B460800);
    c.call(0x0A, words({0x40001000}), 0, 300ms);  // may close the junk frame the ROM was in
    auto r = c.call(0x0A, words({0x40001000}), 0, 1s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value, 0x00F01D83u);
}

// The flash erase model: FLASH_BEGIN erases the whole range before it answers; slow-flash is 10x.
TEST(RomDevice, EraseTimeAndSlowFlash) {
    for (bool slow : {false, true}) {
        // 128 KiB at 0x8000: 8 sectors, a 64 KiB block, 8 sectors, all at 1 MiB/s
        std::vector<std::string> args{"--chip", "esp32", "--no-wire-delay", "--erase-rate", "1M", "--block-erase-rate", "1M"};
        if (slow) args.insert(args.end(), {"--fault", "slow-flash"});
        rom_device_process dev(args);
        notes_client c(dev.pty);
        ASSERT_EQ(c.sync(), 8);
        ASSERT_TRUE(c.call(0x0D, bytes(8, 0)));
        const auto start = std::chrono::steady_clock::now();
        auto r = c.call(0x02, words({0x20000, 128, 0x400, 0x8000}), 0, 10s);  // 125 ms
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        ASSERT_TRUE(r);
        EXPECT_GE(ms, slow ? 1250.0 : 125.0);
        EXPECT_LT(ms, slow ? 3000.0 : 600.0);
    }
}

TEST(RomDevice, FaultNoSync) {
    rom_device_process dev({"--chip", "esp32", "--no-wire-delay", "--fault", "no-sync"});
    notes_client c(dev.pty);
    EXPECT_EQ(c.sync(3), 0);
    EXPECT_TRUE(c.call(0x0A, words({0x40001000}), 0, 1s));  // everything else still answers
}

TEST(RomDevice, FaultBootNoiseComesBeforeTheReplies) {
    rom_device_process dev({"--chip", "esp32", "--no-wire-delay", "--fault", "boot-noise"});
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    const std::string noise(c.noise().begin(), c.noise().end());
    EXPECT_NE(noise.find("boot:0x"), std::string::npos) << noise;
    EXPECT_NE(noise.find("waiting for download"), std::string::npos);
}

TEST(RomDevice, FaultGarbageBetweenReplies) {
    rom_device_process dev({"--chip", "esp32", "--no-wire-delay", "--fault", "garbage"});
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    ASSERT_TRUE(c.call(0x0A, words({0x40001000})));
    EXPECT_GE(c.noise().size(), 9u);
}

TEST(RomDevice, FaultStatusErrorOnBlock) {
    rom_device_process dev(with({"--chip", "esp32", "--no-wire-delay", "--fault", "status-error-on-block=1"}, instant_flash));
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    ASSERT_TRUE(c.call(0x0D, bytes(8, 0)));
    ASSERT_TRUE(c.call(0x02, words({0x1000, 4, 0x400, 0})));
    for (std::uint32_t seq = 0; seq < 2; ++seq) {
        const bytes block = pattern(0x400, seq);
        for (int attempt = 0; attempt < 3; ++attempt) {  // esptool's WRITE_BLOCK_ATTEMPTS
            auto r = c.call(0x03, notes_client::data_packet(seq, block), notes_client::checksum(block));
            ASSERT_TRUE(r);
            const std::pair<int, int> expected = seq == 1 ? std::pair{1, 0x08} : std::pair{0, 0};
            EXPECT_EQ(notes_client::status(*r), expected);
            if (seq == 0) break;
        }
    }
}

TEST(RomDevice, FaultSilentAfterBlock) {
    rom_device_process dev(with({"--chip", "esp32", "--no-wire-delay", "--fault", "silent-after-block=0"}, instant_flash));
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    ASSERT_TRUE(c.call(0x0D, bytes(8, 0)));
    ASSERT_TRUE(c.call(0x02, words({0x1000, 4, 0x400, 0})));
    const bytes block = pattern(0x400, 3);
    EXPECT_TRUE(c.call(0x03, notes_client::data_packet(0, block), notes_client::checksum(block)));
    EXPECT_FALSE(c.call(0x03, notes_client::data_packet(1, block), notes_client::checksum(block), 500ms));
    EXPECT_EQ(c.sync(2), 0);
}

// The ROM acknowledges every block; only MD5 verification (and the dump) shows the damage.
TEST(RomDevice, FaultFlipByteIsCaughtByMd5) {
    temp_dir dir;
    rom_device_process dev(with({"--chip", "esp32c3", "--no-wire-delay", "--flash-file", dir.file("f.bin"), "--fault", "flip-byte=0x1100"},
                        instant_flash));
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    const bytes image = read_fixture_image("bootloader_esp32c3.bin");
    write_image(c, "esp32c3", 0x1000, image);
    EXPECT_NE(device_md5(c, 0x1000, static_cast<std::uint32_t>(image.size())), to_hex(md5(image)));
    dev.stop();
    const bytes flash = slurp(dir.file("f.bin"));
    EXPECT_EQ(flash[0x1100], static_cast<std::uint8_t>(~image[0x100]));
}

// A host may close the port and open it again (a second tool run): the device is still there.
TEST(RomDevice, SurvivesTheHostClosingAndReopeningThePort) {
    rom_device_process dev(with({"--chip", "esp32", "--no-wire-delay"}, instant_flash));
    {
        notes_client c(dev.pty);
        ASSERT_EQ(c.sync(), 8);
        ASSERT_TRUE(c.call(0x0D, bytes(8, 0)));
    }
    std::this_thread::sleep_for(100ms);
    {
        notes_client c(dev.pty);
        c.flush_input();
        ASSERT_EQ(c.sync(), 8);
        auto r = c.call(0x13, words({0, 0x1000, 0, 0}));  // still attached
        ASSERT_TRUE(r);
        EXPECT_EQ(std::string(r->data.begin(), r->data.begin() + 32), to_hex(md5(bytes(0x1000, 0xFF))));
    }
}

TEST(RomDevice, BootAppIgnoresSyncAndPrintsItsLog) {
    rom_device_process dev({"--chip", "esp32", "--no-wire-delay", "--boot", "app"});
    EXPECT_EQ(dev.ready.at("boot"), "app");
    notes_client c(dev.pty);
    EXPECT_EQ(c.sync(2), 0);
    c.drain(1200ms);
    const std::string log(c.noise().begin(), c.noise().end());
    EXPECT_NE(log.find("app:"), std::string::npos) << log;
}

TEST(RomDevice, LoadGivesTheInitialFlash) {
    temp_dir dir;
    const std::string initial = dir.write("initial.bin", pattern(0x3000, 9));
    rom_device_process dev({"--chip", "esp32", "--no-wire-delay", "--read-rate", "0", "--load", initial});
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    ASSERT_TRUE(c.call(0x0D, bytes(8, 0)));
    EXPECT_EQ(device_md5(c, 0, 0x3000), to_hex(md5(pattern(0x3000, 9))));
    auto r = c.call(0x0E, words({0x3000 - 16, 32}));  // READ_FLASH_SLOW across the end of the file
    ASSERT_TRUE(r);
    ASSERT_EQ(r->data.size(), 64u + 4);
    EXPECT_EQ(r->data[16], 0xFF);
}

TEST(RomDeviceCli, HelpAndBadUsage) {
    auto help = run_process({bin_path("otaflash-rom-device"), "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--fault"), std::string::npos);
    EXPECT_NE(help.out.find("silent-after-block=N"), std::string::npos);
    const std::vector<std::vector<std::string>> bad = {
        {"--chip", "esp31"}, {"--flash-size", "3M"}, {"--fault", "teleport"}, {"--boot", "usb"}, {"--frobnicate"},
        {"--fault", "flip-byte=0x800000"}};
    for (const auto& args : bad) {
        std::vector<std::string> argv{bin_path("otaflash-rom-device")};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = run_process(argv, quick());
        EXPECT_EQ(r.exit_code, 2) << args[0];
        EXPECT_NE(r.err.find("error:"), std::string::npos);
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << "one line of error, one of hint: " << r.err;
    }
    auto missing = run_process({bin_path("otaflash-rom-device"), "--load", "/nonexistent/flash.bin"}, quick());
    EXPECT_EQ(missing.exit_code, 4);
}

}  // namespace

namespace {

// A bare RFC 2217 client (the subset pyserial's rfc2217:// uses), for the reset tests.
class rfc2217_client {
public:
    explicit rfc2217_client(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect failed");
        send({0xFF, 0xFB, 44, 0xFF, 0xFD, 44});  // WILL / DO COM-PORT-OPTION
        set_baud(115200);
    }
    ~rfc2217_client() { ::close(fd_); }

    void set_baud(std::uint32_t baud) {
        send({0xFF, 0xFA, 44, 1, static_cast<std::uint8_t>(baud >> 24), static_cast<std::uint8_t>(baud >> 16),
              static_cast<std::uint8_t>(baud >> 8), static_cast<std::uint8_t>(baud), 0xFF, 0xF0});
    }
    void dtr(bool on) { send({0xFF, 0xFA, 44, 5, static_cast<std::uint8_t>(on ? 8 : 9), 0xFF, 0xF0}); }
    void rts(bool on) { send({0xFF, 0xFA, 44, 5, static_cast<std::uint8_t>(on ? 11 : 12), 0xFF, 0xF0}); }
    void write_serial(const bytes& data) {
        bytes escaped;
        for (auto b : data) {
            escaped.push_back(b);
            if (b == 0xFF) escaped.push_back(0xFF);
        }
        send(escaped);
    }

    // Serial data received within `time`, telnet commands removed.
    std::string read_serial(std::chrono::milliseconds time) {
        const auto deadline = std::chrono::steady_clock::now() + time;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            std::uint8_t buf[4096];
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            for (ssize_t i = 0; i < n; ++i) feed(buf[i]);
        }
        return std::exchange(serial_, {});
    }

private:
    void send(const bytes& data) { ASSERT_EQ(::write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size())); }
    void feed(std::uint8_t b) {
        switch (state_) {
        case 0: if (b == 0xFF) state_ = 1; else serial_ += static_cast<char>(b); break;
        case 1:
            if (b == 0xFF) { serial_ += '\xFF'; state_ = 0; }
            else if (b == 0xFA) state_ = 3;
            else if (b >= 0xFB) state_ = 2;
            else state_ = 0;
            break;
        case 2: state_ = 0; break;                       // option byte of WILL/WONT/DO/DONT
        case 3: if (b == 0xFF) state_ = 4; break;        // inside SB
        case 4: state_ = b == 0xF0 ? 0 : 3; break;
        }
    }
    int fd_ = -1;
    int state_ = 0;
    std::string serial_;
};

const std::string sync_reply_wire = std::string("\xC0\x01\x08\x04\x00\x07\x07\x12\x20\x00\x00\x00\x00\xC0", 14);

bytes sync_request() {
    bytes wire{0xC0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x07, 0x12, 0x20};
    wire.insert(wire.end(), 32, 0x55);
    wire.push_back(0xC0);
    return wire;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

// §5: over RFC 2217 the DTR/RTS lines drive EN and GPIO0 through the two-transistor circuit.
TEST(RomDeviceRfc2217, ClassicResetEntersDownloadModeAndAnRtsPulseBootsTheApp) {
    rom_device_process dev({"--chip", "esp32", "--no-wire-delay", "--rfc2217", "0", "--boot", "app"});
    ASSERT_TRUE(dev.ready.at("rfc2217").is_number());
    rfc2217_client c(dev.ready.at("rfc2217").get<std::uint16_t>());
    c.write_serial(sync_request());
    EXPECT_EQ(count(c.read_serial(300ms), sync_reply_wire), 0u) << "the app does not answer SYNC";

    // Classic reset (§5): DTR=0 RTS=1, 0.1 s, DTR=1 RTS=0, 0.05 s, DTR=0.
    c.dtr(false);
    c.rts(true);
    std::this_thread::sleep_for(100ms);
    c.dtr(true);
    c.rts(false);
    std::this_thread::sleep_for(50ms);
    c.dtr(false);
    const std::string banner = c.read_serial(300ms);
    EXPECT_NE(banner.find("boot:0x3 (DOWNLOAD_BOOT"), std::string::npos) << banner;
    EXPECT_NE(banner.find("waiting for download"), std::string::npos);
    auto boot = dev.wait_event("boot");
    ASSERT_TRUE(boot);
    EXPECT_EQ(boot->at("mode"), "download");
    EXPECT_EQ(boot->at("reason"), "reset");
    c.write_serial(sync_request());
    EXPECT_EQ(count(c.read_serial(300ms), sync_reply_wire), 8u);

    // Hard reset after flashing (§5): RTS pulse with DTR released.
    c.rts(true);
    std::this_thread::sleep_for(100ms);
    c.rts(false);
    const std::string app = c.read_serial(300ms);
    EXPECT_NE(app.find("SPI_FAST_FLASH_BOOT"), std::string::npos) << app;
    EXPECT_EQ(dev.wait_event("boot")->at("mode"), "app");
    c.write_serial(sync_request());
    EXPECT_EQ(count(c.read_serial(300ms), sync_reply_wire), 0u);
}

TEST(RomDeviceRfc2217, SetBaudrateChangesTheLineRate) {
    rom_device_process dev({"--chip", "esp32", "--rfc2217", "0"});
    rfc2217_client c(dev.ready.at("rfc2217").get<std::uint16_t>());
    c.write_serial(sync_request());
    EXPECT_EQ(count(c.read_serial(400ms), sync_reply_wire), 8u);
    // CHANGE_BAUDRATE(230400, 0), then the host switches its side with SET-BAUDRATE.
    bytes change{0xC0, 0x00, 0x0F, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};
    append_le32(change, 230400);
    append_le32(change, 0);
    change.push_back(0xC0);
    c.write_serial(change);
    EXPECT_NE(c.read_serial(300ms).find(std::string("\xC0\x01\x0F", 3)), std::string::npos);
    c.write_serial(sync_request());  // still at 115200: junk to the ROM
    EXPECT_EQ(count(c.read_serial(300ms), sync_reply_wire), 0u);
    c.set_baud(230400);
    std::size_t replies = 0;
    for (int attempt = 0; attempt < 3 && replies == 0; ++attempt) {
        c.write_serial(sync_request());
        replies = count(c.read_serial(300ms), sync_reply_wire);
    }
    EXPECT_EQ(replies, 8u);
}

// What esptool does with its flasher stub on an ESP8266 (§2.1 MEM_*, §9.3), against the
// executable and its default (datasheet) flash timing: upload, OHAI, a baud change the ESP8266
// ROM cannot do, a deflate write in 16 KiB blocks, the raw MD5, then FLASH_END(0) back to the ROM.
TEST(RomDevice, AnUploadedFlasherStubGreetsWritesDeflatedDataAndRebootsIntoTheRom) {
    temp_dir dir;
    const std::string dump = dir.file("flash.bin");
    rom_device_process dev({"--chip", "esp8266", "--no-wire-delay", "--flash-file", dump});
    notes_client c(dev.pty);
    ASSERT_EQ(c.sync(), 8);
    const bytes code = pattern(0x2000, 11);
    ASSERT_TRUE(c.call(0x05, words({0x2000, 2, 0x1800, 0x4010E000})));
    for (std::uint32_t seq = 0; seq < 2; ++seq) {
        const bytes chunk(code.begin() + seq * 0x1800, code.begin() + std::min<std::size_t>(code.size(), (seq + 1) * 0x1800));
        auto r = c.call(0x07, notes_client::data_packet(seq, chunk), notes_client::checksum(chunk));
        ASSERT_TRUE(r);
        ASSERT_EQ(notes_client::status(*r).first, 0);
    }
    ASSERT_TRUE(c.call(0x06, words({0, 0x4010E004})));
    const auto greeting = c.next_frame(2000ms);
    ASSERT_TRUE(greeting);
    EXPECT_EQ(std::string(greeting->begin(), greeting->end()), "OHAI");
    EXPECT_EQ(dev.wait_event("stub_started")->at("entry"), 0x4010E004u);

    auto r = c.call(0x0F, words({460800, 115200}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->data, (bytes{0, 0}));  // the stub's 2 status bytes
    c.set_baud(B460800);
    EXPECT_EQ(dev.wait_event("baud")->at("baud"), 460800);

    bytes image = pattern(50000, 12);
    image.resize(90001, 0x00);
    uLongf zsize = compressBound(static_cast<uLong>(image.size()));
    bytes z(zsize);
    ASSERT_EQ(compress2(z.data(), &zsize, image.data(), static_cast<uLong>(image.size()), 9), Z_OK);
    z.resize(zsize);
    const auto blocks = static_cast<std::uint32_t>((z.size() + 0x3FFF) / 0x4000);
    r = c.call(0x10, words({static_cast<std::uint32_t>(image.size()), blocks, 0x4000, 0x30000}));
    ASSERT_TRUE(r);
    ASSERT_EQ(notes_client::status(*r), (std::pair{0, 0}));
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        const bytes block(z.begin() + seq * 0x4000, z.begin() + std::min<std::size_t>(z.size(), (seq + 1) * 0x4000));
        r = c.call(0x11, notes_client::data_packet(seq, block), notes_client::checksum(block));
        ASSERT_TRUE(r) << "block " << seq;
        ASSERT_EQ(notes_client::status(*r), (std::pair{0, 0})) << "block " << seq;
    }
    r = c.call(0x12, words({1}));
    ASSERT_TRUE(r);
    ASSERT_EQ(notes_client::status(*r), (std::pair{0, 0}));
    EXPECT_EQ(dev.wait_event("flash_written")->at("size"), image.size());
    r = c.call(0x13, words({0x30000, static_cast<std::uint32_t>(image.size()), 0, 0}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->data.size(), 18u);
    const auto digest = md5(image);
    EXPECT_TRUE(std::equal(digest.begin(), digest.end(), r->data.begin()));

    ASSERT_TRUE(c.call(0x02, words({0, 0, 0x4000, 0})));
    ASSERT_TRUE(c.call(0x04, words({0})));
    EXPECT_EQ(dev.wait_event("boot")->at("reason"), "flash_end");
    const bytes flash = slurp(dump);
    ASSERT_GE(flash.size(), 0x30000 + image.size());
    EXPECT_TRUE(std::equal(image.begin(), image.end(), flash.begin() + 0x30000));
    // Back in the ESP8266 ROM: at 115200 only, value field non-zero on SYNC.
    c.set_baud(B115200);
    c.flush_input();
    EXPECT_EQ(c.sync(), 8);
}

}  // namespace
