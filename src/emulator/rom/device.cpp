#include "device.hpp"

#include "serial_speed.hpp"

#include <otaflash/io/file.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

namespace otaflash::emulator::rom {
namespace asio = boost::asio;

namespace {
using clock = std::chrono::steady_clock;
// While no program has the pty's slave side open the master reads EIO and polls as readable, so
// the driver looks again on a timer instead of spinning.
constexpr std::chrono::milliseconds closed_port_poll{20};
}  // namespace

struct device::impl {
    impl(device_options o, device_observer& obs, log_sink& l)
        : options(std::move(o)),
          observer(obs),
          log(l),
          model(options.rom, options.initial_flash, l),
          poll_timer(io),
          tx_timer(io),
          wake_timer(io),
          signals(io, SIGINT, SIGTERM) {
        options.initial_flash.clear();
        options.initial_flash.shrink_to_fit();
    }

    ~impl() {
        if (master) master->close();
    }

    result<void> open() {
        int master_fd = -1, slave_fd = -1;
        char name[128] = {};
        if (::openpty(&master_fd, &slave_fd, name, nullptr, nullptr) != 0)
            return make_failure(errc::write_failed, std::string("cannot open a pseudo-terminal: ") + std::strerror(errno),
                                "check /dev/ptmx and the limit in /proc/sys/kernel/pty/max");
        // Raw 8N1 at 115200 until the host sets its own mode; the settings outlive our slave fd.
        termios tio{};
        ::tcgetattr(slave_fd, &tio);
        ::cfmakeraw(&tio);
        ::cfsetspeed(&tio, B115200);
        ::tcsetattr(slave_fd, TCSANOW, &tio);
        ::close(slave_fd);
        ::fcntl(master_fd, F_SETFD, FD_CLOEXEC);
        ::fcntl(master_fd, F_SETFL, ::fcntl(master_fd, F_GETFL) | O_NONBLOCK);
        master.emplace(io, master_fd);
        path = name;
        return {};
    }

    void run() {
        signals.async_wait([this](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            if (log.enabled(log_level::info))
                log.write(log_level::info, std::string(signal == SIGINT ? "SIGINT" : "SIGTERM") + ": dumping flash and exiting");
            finish();
        });
        const auto now = clock::now();
        model.start(now, options.boot);
        model.set_strap(options.boot);
        observer.ready(path, std::nullopt);
        read_available();
        flush();
        io.run();
    }

    void finish() {
        dump();
        io.stop();
    }

    std::uint32_t host_baud() {
        termios tio{};
        if (::tcgetattr(master->native_handle(), &tio) != 0) return 0;
        return baud_from_speed(::cfgetospeed(&tio));
    }

    void wait_readable() {
        master->async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
            if (!ec) read_available();
        });
    }

    void read_available() {
        std::array<std::uint8_t, 4096> buffer;
        for (;;) {
            const ssize_t n = ::read(master->native_handle(), buffer.data(), buffer.size());
            if (n > 0) {
                if (!host_open) host_opened();
                model.receive(byte_view(buffer.data(), static_cast<std::size_t>(n)), clock::now(), host_baud());
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                if (!host_open) host_opened();
                flush();
                wait_readable();
                return;
            }
            // EIO: nobody has the slave side open
            if (host_open) {
                host_open = false;
                pending_write.clear();
                if (log.enabled(log_level::info)) log.write(log_level::info, "host closed " + path);
            }
            flush();
            poll_timer.expires_after(closed_port_poll);
            poll_timer.async_wait([this](const boost::system::error_code& ec) {
                if (!ec) read_available();
            });
            return;
        }
    }

    void host_opened() {
        host_open = true;
        if (log.enabled(log_level::info)) log.write(log_level::info, "host opened " + path);
    }

    // Collects what the model produced: events now, bytes at their time.
    void flush() {
        for (auto& t : model.take_output()) pending.push_back(std::move(t));
        for (const auto& e : model.take_events()) {
            observer.event(e);
            if (e.what == rom_event::kind::flash_written || e.what == rom_event::kind::flash_end ||
                e.what == rom_event::kind::booted)
                dump();
        }
        arm_transmit();
        arm_wakeup();
    }

    void arm_transmit() {
        if (pending.empty()) return;
        tx_timer.expires_at(pending.front().at);
        tx_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) transmit_due();
        });
    }

    void arm_wakeup() {
        const auto when = model.next_wakeup();
        if (!when) return;
        wake_timer.expires_at(*when);
        wake_timer.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            model.poll(clock::now());
            flush();
        });
    }

    void transmit_due() {
        const auto now = clock::now();
        while (!pending.empty() && pending.front().at <= now) {
            transmission t = std::move(pending.front());
            pending.pop_front();
            if (!host_open) continue;  // like a real UART: nobody listening, the bytes are gone
            const std::uint32_t line = host_baud();
            if (!rom_model::rates_match(line, t.baud)) t.data = model.garble(t.data);
            pending_write.insert(pending_write.end(), t.data.begin(), t.data.end());
        }
        write_some();
        arm_transmit();
    }

    void write_some() {
        while (!pending_write.empty()) {
            const ssize_t n = ::write(master->native_handle(), pending_write.data(), pending_write.size());
            if (n > 0) {
                pending_write.erase(pending_write.begin(), pending_write.begin() + n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                if (writing) return;
                writing = true;
                master->async_wait(asio::posix::stream_descriptor::wait_write, [this](const boost::system::error_code& ec) {
                    writing = false;
                    if (!ec) write_some();
                });
                return;
            }
            pending_write.clear();  // EIO: the host closed the port meanwhile
            return;
        }
    }

    void dump() {
        if (options.flash_file.empty()) return;
        auto done = write_file_atomic(options.flash_file, model.flash());
        if (!done) observer.dump_failed(done.error());
    }

    device_options options;
    device_observer& observer;
    log_sink& log;
    asio::io_context io;
    rom_model model;
    std::optional<asio::posix::stream_descriptor> master;
    std::string path;
    bool host_open = false;
    bool writing = false;
    std::deque<transmission> pending;
    bytes pending_write;
    asio::steady_timer poll_timer;
    asio::steady_timer tx_timer;
    asio::steady_timer wake_timer;
    asio::signal_set signals;
};

device::device(device_options options, device_observer& observer, log_sink& log)
    : impl_(std::make_unique<impl>(std::move(options), observer, log)) {}
device::~device() = default;

result<void> device::open() { return impl_->open(); }
void device::run() { impl_->run(); }
void device::stop() {
    asio::post(impl_->io, [i = impl_.get()] { i->finish(); });
}

}  // namespace otaflash::emulator::rom
