// The serial transport on a real pseudo-terminal: bytes both ways, deadlines that really wait,
// the baud rate visible on the other side, no modem lines on a pty, exclusivity, signals.

#include <otaflash/serial/port.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <thread>

using namespace otaflash;
using namespace std::chrono_literals;

namespace {

struct pty_pair {
    int master = -1;
    std::string slave_path;
    pty_pair() {
        int slave = -1;
        char name[128] = {};
        if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) throw std::runtime_error("openpty failed");
        ::close(slave);
        slave_path = name;
    }
    ~pty_pair() { ::close(master); }
    speed_t speed() const {
        termios t{};
        ::tcgetattr(master, &t);
        return ::cfgetospeed(&t);
    }
};

std::unique_ptr<rom::port> open(const std::string& path, bool exclusive = true) {
    serial::port_options options;
    options.exclusive = exclusive;
    auto p = serial::open_port(path, options, null_log());
    if (!p) throw std::runtime_error(p.error().message);
    return std::move(*p);
}

}  // namespace

TEST(SerialPort, BytesBothWaysAndTheBaudRateShowsOnTheOtherSide) {
    pty_pair pty;
    auto port = open(pty.slave_path);
    EXPECT_EQ(pty.speed(), B115200);
    const bytes out{0xC0, 0x00, 0x08, 0xFF, 0xC0};
    ASSERT_TRUE(port->write(out, port->now() + 1s));
    std::uint8_t got[16];
    ASSERT_EQ(::read(pty.master, got, sizeof got), 5);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), got));

    const std::uint8_t in[] = {1, 2, 3};
    ASSERT_EQ(::write(pty.master, in, 3), 3);
    std::uint8_t buf[16];
    auto n = port->read(buf, port->now() + 1s);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3u);
    EXPECT_EQ(buf[2], 3);

    ASSERT_TRUE(port->set_baud(921600));
    EXPECT_EQ(pty.speed(), B921600);
    EXPECT_EQ(port->baud(), 921600u);
    EXPECT_FALSE(port->set_baud(123457));
}

TEST(SerialPort, DeadlinesAndSleepsReallyWait) {
    pty_pair pty;
    auto port = open(pty.slave_path);
    std::uint8_t buf[16];
    auto start = std::chrono::steady_clock::now();
    auto n = port->read(buf, port->now() + 150ms);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
    EXPECT_GE(took, 145ms);
    EXPECT_LT(took, 1s);

    start = std::chrono::steady_clock::now();
    ASSERT_TRUE(port->sleep_until(port->now() + 120ms));
    took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 115ms);
    EXPECT_LT(took, 1s);

    // A deadline in the past takes only what is already there.
    const std::uint8_t in[] = {9};
    ASSERT_EQ(::write(pty.master, in, 1), 1);
    std::this_thread::sleep_for(20ms);
    n = port->read(buf, port->now() - 1s);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1u);
    n = port->read(buf, port->now() - 1s);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
}

TEST(SerialPort, DiscardDropsWhatWasNotRead) {
    pty_pair pty;
    auto port = open(pty.slave_path);
    const std::uint8_t in[] = {1, 2, 3, 4};
    ASSERT_EQ(::write(pty.master, in, 4), 4);
    std::this_thread::sleep_for(20ms);
    port->discard_input();
    std::uint8_t buf[16];
    auto n = port->read(buf, port->now() + 50ms);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
}

TEST(SerialPort, PtyHasNoModemLines) {
    pty_pair pty;
    auto port = open(pty.slave_path);
    auto lines = port->set_lines(true, false);
    ASSERT_TRUE(lines);
    EXPECT_FALSE(*lines);
}

TEST(SerialPort, ExclusiveOpenKeepsOthersOut) {
    pty_pair pty;
    auto first = open(pty.slave_path);
    auto second = serial::open_port(pty.slave_path, {}, null_log());
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, errc::port_busy);
    first.reset();
    EXPECT_TRUE(serial::open_port(pty.slave_path, {}, null_log()));
}

TEST(SerialPort, OpenErrorsAreClassified) {
    auto missing = serial::open_port("/dev/otaflash-no-such-port", {}, null_log());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::serial_port_not_found);
    auto not_a_tty = serial::open_port("/dev/null", {}, null_log());
    ASSERT_FALSE(not_a_tty);
    EXPECT_EQ(not_a_tty.error().code, errc::serial_port_not_found);
    EXPECT_NE(not_a_tty.error().message.find("not a serial port"), std::string::npos);
    auto bad_url = serial::open_port("rfc2217://nohostport", {}, null_log());
    ASSERT_FALSE(bad_url);
    EXPECT_EQ(bad_url.error().code, errc::usage_error);
    EXPECT_EQ(serial::kind_of("socket://127.0.0.1:1"), serial::port_kind::socket);
    EXPECT_EQ(serial::kind_of("rfc2217://127.0.0.1:1"), serial::port_kind::rfc2217);
    EXPECT_EQ(serial::kind_of("/dev/ttyUSB0"), serial::port_kind::serial);
}

TEST(SerialPort, SignalEndsAWaitAndEveryLaterOne) {
    pty_pair pty;
    auto port = open(pty.slave_path);
    std::thread raiser([] {
        std::this_thread::sleep_for(100ms);
        ::kill(::getpid(), SIGTERM);
    });
    std::uint8_t buf[16];
    const auto start = std::chrono::steady_clock::now();
    auto n = port->read(buf, port->now() + 5s);
    raiser.join();
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, errc::interrupted_sigterm);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    auto again = port->sleep_until(port->now() + 5s);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, errc::interrupted_sigterm);
}
