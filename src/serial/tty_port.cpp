// A serial device as a rom::port: Asio serial_port for the I/O, the native handle for what Asio
// does not offer (raw termios, exclusivity, both modem lines at once, low latency).

#include "serial/tty_port.hpp"

#include "serial/waiter.hpp"

#include <boost/asio/serial_port.hpp>

#include <linux/serial.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <cerrno>
#include <cstring>

namespace otaflash::serial::detail {
namespace {

namespace asio = boost::asio;

std::optional<speed_t> speed_constant(std::uint32_t baud) {
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 74880: return std::nullopt;  // not a termios rate (the ESP8266 boot log's)
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 500000: return B500000;
    case 576000: return B576000;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 1152000: return B1152000;
    case 1500000: return B1500000;
    case 2000000: return B2000000;
    case 2500000: return B2500000;
    case 3000000: return B3000000;
    case 3500000: return B3500000;
    case 4000000: return B4000000;
    default: break;
    }
    return std::nullopt;
}

failure open_failure(const std::string& path, int error) {
    const std::string why = std::strerror(error);
    switch (error) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
        return make_failure(errc::serial_port_not_found, "serial port " + path + " does not exist (" + why + ")",
                            "check -p (ls /dev/ttyUSB* /dev/ttyACM*) and that the board is plugged in");
    case EACCES:
    case EPERM:
        return make_failure(errc::permission_denied, "no permission to open " + path + " (" + why + ")",
                            "add yourself to the group that owns it (usually 'dialout': sudo usermod -aG dialout $USER, "
                            "then log in again)");
    case EBUSY:
    case EWOULDBLOCK:
        return make_failure(errc::port_busy, path + " is in use by another program",
                            "close the serial monitor or other flasher that holds it (fuser " + path + ")");
    case ENOTTY:
        return make_failure(errc::serial_port_not_found, path + " is not a serial port",
                            "-p takes a serial device such as /dev/ttyUSB0");
    default: break;
    }
    return make_failure(errc::serial_port_not_found, "cannot open " + path + ": " + why,
                        "check -p and that the board is plugged in");
}

failure io_failure(const std::string& path, const boost::system::error_code& ec, const char* doing) {
    return make_failure(errc::connection_lost, std::string("the serial port ") + path + " failed while " + doing + ": " +
                                                   ec.message(),
                        "the adapter may have been unplugged or reset: check the cable and run again");
}

class tty_port final : public rom::port {
public:
    tty_port(std::string path, const port_options& options, log_sink& log)
        : path_(std::move(path)), waiter_(options.catch_signals), port_(waiter_.context()), log_(log) {}

    ~tty_port() override {
        if (!port_.is_open()) return;
        const int fd = port_.native_handle();
        // Leave the tty as we found it: its modes, its latency setting, not exclusive.
        if (saved_serial_) ::ioctl(fd, TIOCSSERIAL, &*saved_serial_);
        if (saved_termios_) ::tcsetattr(fd, TCSANOW, &*saved_termios_);
        if (exclusive_) ::ioctl(fd, TIOCNXCL);
        boost::system::error_code ignored;
        port_.close(ignored);
    }

    result<void> open(const port_options& options) {
        boost::system::error_code ec;
        port_.open(path_, ec);
        if (ec) return open_failure(path_, ec.value());
        const int fd = port_.native_handle();
        if (!::isatty(fd)) return open_failure(path_, ENOTTY);
        if (options.exclusive) {
            // flock keeps out other flashers (it binds root too); TIOCEXCL keeps out other opens.
            if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return open_failure(path_, errno);
            if (::ioctl(fd, TIOCEXCL) == 0) exclusive_ = true;
        }
        termios t{};
        if (::tcgetattr(fd, &t) != 0) return open_failure(path_, errno);
        saved_termios_ = t;
        ::cfmakeraw(&t);
        t.c_cflag |= CLOCAL | CREAD;
        t.c_cflag &= ~(CRTSCTS | CSTOPB | PARENB | CSIZE);
        t.c_cflag |= CS8;
        t.c_iflag &= ~(IXON | IXOFF | IXANY);
        // VMIN 1: with nothing waiting a read says "would block" (Asio waits) instead of 0 (EOF).
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        if (::tcsetattr(fd, TCSANOW, &t) != 0) return open_failure(path_, errno);
        // USB adapters (FTDI: 16 ms) hold received bytes back; the ROM answers every 1 KiB block,
        // so that delay would be paid once per block. Not every driver has the setting.
        serial_struct ss{};
        if (::ioctl(fd, TIOCGSERIAL, &ss) == 0) {
            saved_serial_ = ss;
            ss.flags |= ASYNC_LOW_LATENCY;
            if (::ioctl(fd, TIOCSSERIAL, &ss) != 0) saved_serial_.reset();
        } else {
            log_.write(log_level::debug, path_ + ": no low-latency setting (" + std::strerror(errno) + ")");
        }
        auto set = set_baud(options.baud);
        if (!set) return set;
        ::tcflush(fd, TCIOFLUSH);
        return {};
    }

    rom::time_point now() override { return rom::clock::now(); }

    result<void> write(byte_view data, rom::time_point deadline) override {
        auto r = waiter_.write_all(port_, data, deadline);
        if (!r) return std::move(r).error();
        if (r->timed_out)
            return make_failure(errc::connection_lost, "could not send to " + path_ + ": the port did not take the bytes in time",
                                "hardware flow control or a stuck adapter: check the cable and the adapter");
        if (r->ec) return io_failure(path_, r->ec, "sending");
        return {};
    }

    result<std::size_t> read(std::span<std::uint8_t> into, rom::time_point deadline) override {
        auto r = waiter_.read_some(port_, into, deadline);
        if (!r) return std::move(r).error();
        if (r->timed_out || r->ec == asio::error::operation_aborted) return r->bytes;
        if (r->ec) return io_failure(path_, r->ec, "receiving");
        return r->bytes;
    }

    void discard_input() override { ::tcflush(port_.native_handle(), TCIFLUSH); }

    result<void> set_baud(std::uint32_t baud) override {
        auto speed = speed_constant(baud);
        if (!speed)
            return make_failure(errc::usage_error, "baud rate " + std::to_string(baud) + " is not one this port can be set to",
                                "use a standard rate: 115200, 230400, 460800, 921600, 1500000, 2000000");
        termios t{};
        const int fd = port_.native_handle();
        if (::tcgetattr(fd, &t) != 0 || ::cfsetispeed(&t, *speed) != 0 || ::cfsetospeed(&t, *speed) != 0 ||
            ::tcsetattr(fd, TCSANOW, &t) != 0)
            return make_failure(errc::connection_lost,
                                "cannot set " + path_ + " to " + std::to_string(baud) + " baud: " + std::strerror(errno),
                                "the adapter's driver may not support this rate: try --baud 460800 or 115200");
        baud_ = baud;
        return {};
    }

    std::uint32_t baud() const override { return baud_; }

    result<bool> set_lines(bool dtr, bool rts) override {
        if (auto f = waiter_.interruption()) return *f;
        if (!lines_) return false;
        const int fd = port_.native_handle();
        int bits = 0;
        if (::ioctl(fd, TIOCMGET, &bits) == 0) {
            bits = dtr ? (bits | TIOCM_DTR) : (bits & ~TIOCM_DTR);
            bits = rts ? (bits | TIOCM_RTS) : (bits & ~TIOCM_RTS);
            if (::ioctl(fd, TIOCMSET, &bits) == 0) return true;
        }
        if (errno == ENOTTY || errno == EINVAL) {
            // A pty or an adapter without modem lines: the reset cannot happen from here.
            log_.write(log_level::debug, path_ + " has no modem lines (" + std::strerror(errno) + "): DTR/RTS not set");
            lines_ = false;
            return false;
        }
        return make_failure(errc::connection_lost, "cannot set DTR/RTS on " + path_ + ": " + std::strerror(errno),
                            "the adapter may have been unplugged: check the cable");
    }

    result<void> sleep_until(rom::time_point until) override { return waiter_.sleep_until(until); }

    std::string name() const override { return path_; }

private:
    std::string path_;
    waiter waiter_;
    asio::serial_port port_;
    log_sink& log_;
    std::uint32_t baud_ = 0;
    bool lines_ = true;
    bool exclusive_ = false;
    std::optional<termios> saved_termios_;
    std::optional<serial_struct> saved_serial_;
};

}  // namespace

result<std::unique_ptr<rom::port>> open_tty(const std::string& path, const port_options& options, log_sink& log) {
    auto p = std::make_unique<tty_port>(path, options, log);
    auto opened = p->open(options);
    if (!opened) return std::move(opened).error();
    return std::unique_ptr<rom::port>(std::move(p));
}

}  // namespace otaflash::serial::detail
