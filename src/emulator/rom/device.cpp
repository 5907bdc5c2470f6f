#include "device.hpp"

#include "reset_circuit.hpp"
#include "rfc2217.hpp"
#include "serial_speed.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/net/bind_failure.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
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
          reset_timer(io),
          signals(io, SIGINT, SIGTERM),
          acceptor(io) {
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
        if (options.rfc2217_port) return listen(*options.rfc2217_port);
        return {};
    }

    result<void> listen(std::uint16_t port) {
        boost::system::error_code ec;
        const asio::ip::tcp::endpoint local(asio::ip::make_address_v4("127.0.0.1"), port);
        acceptor.open(local.protocol(), ec);
        if (!ec) acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor.bind(local, ec);
        if (!ec) acceptor.listen(1, ec);
        if (ec) return net::bind_failure("127.0.0.1", port, ec, {"--rfc2217", "--rfc2217"});
        rfc2217_port = acceptor.local_endpoint().port();
        return {};
    }

    void accept() {
        acceptor.async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) {
                if (client) {
                    socket.close();  // one serial port, one client at a time
                } else {
                    client.emplace(std::move(socket));
                    codec = rfc2217::server_codec(115200);
                    client_baud = 115200;
                    if (log.enabled(log_level::info)) log.write(log_level::info, "RFC 2217 client connected");
                    read_client();
                }
            }
            accept();
        });
    }

    void read_client() {
        client->async_read_some(asio::buffer(client_in), [this](const boost::system::error_code& ec, std::size_t n) {
            if (ec) {
                drop_client();
                return;
            }
            rfc2217::output out;
            codec.feed(byte_view(client_in.data(), n), out);
            const auto now = clock::now();
            for (auto& item : out.items) {
                switch (item.what) {
                case rfc2217::item::kind::data: model.receive(item.data, now, client_baud); break;
                case rfc2217::item::kind::baud: client_baud = item.value; break;
                case rfc2217::item::kind::dtr: lines_changed(reset.set_dtr(item.value != 0, now), now); break;
                case rfc2217::item::kind::rts: lines_changed(reset.set_rts(item.value != 0, now), now); break;
                }
            }
            send_client(std::move(out.reply));
            flush();
            read_client();
        });
    }

    void drop_client() {
        if (!client) return;
        boost::system::error_code ignored;
        client->close(ignored);
        client.reset();
        client_out.clear();
        if (log.enabled(log_level::info)) log.write(log_level::info, "RFC 2217 client disconnected");
        // Closing the port releases both lines, as a USB-serial adapter does.
        const auto now = clock::now();
        lines_changed(reset.set_dtr(false, now), now);
        lines_changed(reset.set_rts(false, now), now);
        flush();
    }

    void lines_changed(bool entered_reset, time_point now) {
        model.set_strap(reset.strap());
        if (entered_reset) {
            model.hold_in_reset(now);
            pending.clear();
        }
        if (const auto due = reset.boot_due()) {
            reset_timer.expires_at(*due);
            reset_timer.async_wait([this](const boost::system::error_code& ec) {
                if (ec) return;
                if (const auto mode = reset.poll(clock::now())) model.boot(clock::now(), *mode, "reset");
                flush();
            });
        }
    }

    void send_client(bytes data) {
        if (!client || data.empty()) return;
        client_out.insert(client_out.end(), data.begin(), data.end());
        if (client_writing) return;
        client_writing = true;
        client_sending = std::move(client_out);
        client_out.clear();
        asio::async_write(*client, asio::buffer(client_sending), [this](const boost::system::error_code& ec, std::size_t) {
            client_writing = false;
            client_sending.clear();
            if (ec) return drop_client();
            if (!client_out.empty()) send_client({});
        });
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
        observer.ready(path, rfc2217_port);
        if (rfc2217_port) accept();
        read_available();
        flush();
        io.run();
    }

    void finish() {
        dump();
        io.stop();
    }


    std::uint32_t host_baud() { return line_baud(master->native_handle()); }

    // A rate we cannot read is taken to match: better no junk than junk for no reason.
    static bool same_rate(std::uint32_t line, std::uint32_t sent) { return line == 0 || rom_model::rates_match(line, sent); }

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
            // Like a real UART: bytes nobody listens to are gone, and a line at another rate sees junk.
            if (host_open) {
                const bytes data = same_rate(host_baud(), t.baud) ? t.data : model.garble(t.data);
                pending_write.insert(pending_write.end(), data.begin(), data.end());
            }
            if (client)
                send_client(rfc2217::server_codec::escape(same_rate(client_baud, t.baud) ? t.data : model.garble(t.data)));
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
    asio::steady_timer reset_timer;
    asio::signal_set signals;
    asio::ip::tcp::acceptor acceptor;
    std::optional<std::uint16_t> rfc2217_port;
    std::optional<asio::ip::tcp::socket> client;
    rfc2217::server_codec codec;
    std::uint32_t client_baud = 115200;
    std::array<std::uint8_t, 4096> client_in{};
    bytes client_out, client_sending;
    bool client_writing = false;
    reset_circuit reset;
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
