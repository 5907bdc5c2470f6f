#include "emulator/ota/device.hpp"

#include "emulator/ota/listener.hpp"
#include "emulator/ota/session.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/net/bind_failure.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <exception>
#include <poll.h>
#include <random>
#include <span>
#include <sys/socket.h>

namespace otaflash::emulator::ota {
namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using asio::ip::udp;
using clock_type = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr auto hold_poll_period = 100ms;

awaitable<void> sleep_until(clock_type::time_point when) {
    asio::steady_timer timer(co_await asio::this_coro::executor, when);
    co_await timer.async_wait(tuple_awaitable);
}

// The connect-back socket and what the device has queued to send on it. Shared with the writer
// coroutine, which may outlive the update that created it by a few handler invocations.
struct connection {
    explicit connection(const asio::any_io_executor& ex) : socket(ex), wake(ex), drained(ex) {}

    tcp::socket socket;
    struct pending_write {
        clock_type::time_point due;
        std::string bytes;
    };
    std::deque<pending_write> queue;
    asio::steady_timer wake;     // the writer sleeps on it while the queue is empty
    asio::steady_timer drained;  // flush_sent waits on it until the queue is empty
    bool broken = false;         // a write failed: the host is gone; later writes are dropped
    bool closed = false;

    // Bytes the socket holds for reading (client.available()).
    std::size_t available() {
        boost::system::error_code ec;
        const std::size_t n = socket.available(ec);
        return ec ? 0 : n;
    }

    // client.connected() || client.available(): false once the host's FIN or RST was seen and
    // nothing is left to read.
    bool peer_open() {
        if (closed) return false;
        if (available() > 0) return true;
        char probe = 0;
        const auto n = ::recv(socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return true;
        if (n == 0) return false;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }

    void close(bool reset) {
        if (closed) return;
        closed = true;
        queue.clear();
        wake.cancel();
        drained.cancel();
        boost::system::error_code ec;
        if (reset) {
            socket.set_option(asio::socket_base::linger(true, 0), ec);
        } else {
            // Unread input is discarded first, as the firmware's stop() does, so that the close is
            // a FIN and not an RST.
            std::array<char, 4096> sink{};
            while (available() > 0 && !ec) (void)socket.read_some(asio::buffer(sink), ec);
            socket.shutdown(tcp::socket::shutdown_send, ec);
        }
        socket.close(ec);
    }
};

awaitable<void> run_writer(std::shared_ptr<connection> conn) {
    while (!conn->closed) {
        if (conn->queue.empty()) {
            conn->drained.cancel();
            conn->wake.expires_at(clock_type::time_point::max());
            co_await conn->wake.async_wait(tuple_awaitable);
            continue;
        }
        if (conn->queue.front().due > clock_type::now()) {
            co_await sleep_until(conn->queue.front().due);
            continue;
        }
        std::string bytes = std::move(conn->queue.front().bytes);
        auto [ec, n] = co_await asio::async_write(conn->socket, asio::buffer(bytes), tuple_awaitable);
        (void)n;
        if (conn->closed) break;
        conn->queue.pop_front();
        if (ec) {
            conn->broken = true;
            conn->queue.clear();
        }
    }
    conn->drained.cancel();
}

// One receive buffer per thread for every device on it: a datagram is read and handled before the
// next read, so devices need not carry 64 KiB each.
std::span<char> datagram_buffer() {
    thread_local std::array<char, 65536> buffer{};
    return buffer;
}

std::uint32_t low32(const asio::ip::address& a) {
    if (a.is_v4()) return a.to_v4().to_uint();
    const auto b = a.to_v6().to_bytes();
    return (std::uint32_t{b[12]} << 24) | (std::uint32_t{b[13]} << 16) | (std::uint32_t{b[14]} << 8) | b[15];
}

}  // namespace

struct device::impl : std::enable_shared_from_this<device::impl> {
    impl(asio::any_io_executor ex, device_config cfg, event_sink& sink, log_sink& logger)
        : executor(std::move(ex)),
          config(std::move(cfg)),
          kind(traits(config.kind)),
          events(sink),
          log(logger),
          udp_socket(executor),
          loop_timer(executor),
          wake(executor),
          listen(make_listener_config()) {}

    asio::any_io_executor executor;
    device_config config;
    const kind_traits& kind;
    event_sink& events;
    log_sink& log;
    udp::socket udp_socket;
    asio::steady_timer loop_timer;
    asio::steady_timer wake;  // the idle sketch loop sleeps on it until the receiver has an update
    listener listen;
    std::string hostname;
    std::string board;
    std::shared_ptr<connection> active;
    bool stopping = false;
    clock_type::time_point boot = clock_type::now();
    std::random_device entropy;
    std::uint64_t micros_offset = 0;

    listener_config make_listener_config() {
        listener_config lc;
        lc.kind = &traits(config.kind);
        lc.password = config.password;
        lc.silent = config.faults.silent;
        lc.reject_auth = config.faults.reject_auth;
        lc.make_nonce = [this](espota::auth_scheme scheme) { return make_nonce(scheme); };
        return lc;
    }

    std::string make_nonce(espota::auth_scheme scheme) {
        if (scheme == espota::auth_scheme::md5_legacy) {
            const auto since_boot = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - boot);
            // micros() is a 32-bit counter on the device.
            return legacy_nonce(static_cast<std::uint32_t>(micros_offset + static_cast<std::uint64_t>(since_boot.count())));
        }
        std::array<std::uint8_t, 32> random{};
        for (auto& b : random) b = static_cast<std::uint8_t>(entropy());
        return pbkdf2_nonce(random);
    }

    void note(log_level level, const std::string& text) {
        if (log.enabled(level)) log.write(level, std::string(kind.name) + " " + to_string(local_peer()) + ": " + text);
    }

    peer local_peer() const {
        boost::system::error_code ec;
        const auto ep = udp_socket.local_endpoint(ec);
        return ec ? peer{config.bind_address, 0} : peer{ep.address().to_string(), ep.port()};
    }

    auto completion(std::string what) {
        return [self = shared_from_this(), what](std::exception_ptr error) {
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                self->note(log_level::error, what + " stopped: " + e.what());
            }
        };
    }

    result<void> start() {
        boost::system::error_code ec;
        const auto address = asio::ip::make_address(config.bind_address, ec);
        if (ec)
            return make_failure(errc::usage_error, "--bind " + config.bind_address + " is not an IP address",
                                "give an address such as 127.0.0.1 or ::1");
        const std::uint16_t port = config.port.value_or(kind.default_port);
        udp_socket.open(address.is_v4() ? udp::v4() : udp::v6(), ec);
        if (!ec) udp_socket.bind(udp::endpoint(address, port), ec);
        if (!ec) udp_socket.non_blocking(true, ec);
        if (ec) return net::bind_failure(config.bind_address, port, ec, {"--bind", "--port", "UDP"});
        micros_offset = entropy();
        const peer here = local_peer();
        hostname = config.hostname.empty() ? default_hostname(kind, low32(address), here.port) : config.hostname;
        board = config.board.empty() ? std::string(kind.default_board) : config.board;
        events.on_event(ready_event{std::string(kind.name), here.address, here.port, hostname, board});
        note(log_level::info, "listening");

        auto self = shared_from_this();
        if (kind.async_udp) asio::co_spawn(executor, receive_loop(), completion("udp receiver"));
        asio::co_spawn(executor, sketch_loop(), completion("sketch loop"));
        return {};
    }

    void stop() {
        stopping = true;
        boost::system::error_code ec;
        udp_socket.close(ec);
        loop_timer.cancel();
        wake.cancel();
        if (active) active->close(true);
    }

    void send_reply(const udp_reply& reply) {
        boost::system::error_code ec;
        const auto to = asio::ip::make_address(reply.to.address, ec);
        if (!ec) udp_socket.send_to(asio::buffer(reply.payload), udp::endpoint(to, reply.to.port), 0, ec);
        if (ec) note(log_level::warn, "could not send \"" + reply.payload + "\" to " + to_string(reply.to) + ": " + ec.message());
        else note(log_level::debug, "sent \"" + reply.payload + "\" to " + to_string(reply.to));
    }

    void handle_datagram(std::string_view payload, const udp::endpoint& from) {
        auto step = listen.on_datagram(payload, peer{from.address().to_string(), from.port()});
        if (!step.note.empty()) note(log_level::debug, step.note);
        if (step.reply) send_reply(*step.reply);
        for (auto& e : step.events) events.on_event(e);
    }

    // Reads what is queued (non-blocking) and handles it; a bounded batch, so that errors the
    // socket reports (ICMP unreachable from an earlier reply) cannot keep us here.
    void receive_queued(std::size_t at_most) {
        auto buffer = datagram_buffer();
        for (std::size_t i = 0; i < at_most && !stopping; ++i) {
            udp::endpoint from;
            boost::system::error_code ec;
            const std::size_t n = udp_socket.receive_from(asio::buffer(buffer.data(), buffer.size()), from, 0, ec);
            if (ec == asio::error::would_block || ec == asio::error::bad_descriptor) return;
            if (!ec) handle_datagram(std::string_view(buffer.data(), n), from);
        }
    }

    // esp8266/pico: lwIP hands each datagram to a callback at once, even during an update.
    awaitable<void> receive_loop() {
        auto self = shared_from_this();
        while (!stopping) {
            auto [ec] = co_await udp_socket.async_wait(udp::socket::wait_read, tuple_awaitable);
            if (stopping || ec == asio::error::operation_aborted) co_return;
            receive_queued(64);
            if (listen.update_pending()) wake.cancel();
        }
    }

    // Nothing for handle() to do: no update waiting and (esp32) no datagram to poll.
    bool idle() {
        if (listen.update_pending()) return false;
        if (kind.async_udp) return true;
        boost::system::error_code ec;
        return udp_socket.available(ec) == 0 && !readable_now();
    }

    // An empty datagram is queued but available() says 0.
    bool readable_now() {
        pollfd p{udp_socket.native_handle(), POLLIN, 0};
        return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
    }

    // loop() { ArduinoOTA.handle(); }: runs a pending update; esp32 also polls one datagram.
    // While there is nothing to do the loop sleeps until there is, then resumes on its beat (the
    // next multiple of the period since it started): a hundred idle devices cost no CPU, and a
    // datagram still waits for handle() as long as it would on the device.
    awaitable<void> sketch_loop() {
        auto self = shared_from_this();
        const auto beat_origin = clock_type::now();
        while (!stopping) {
            if (listen.update_pending()) co_await run_update(listen.take_update());
            if (stopping) co_return;
            if (!kind.async_udp) receive_queued(1);
            if (idle()) {
                if (kind.async_udp) {
                    wake.expires_at(clock_type::time_point::max());
                    co_await wake.async_wait(tuple_awaitable);
                } else {
                    co_await udp_socket.async_wait(udp::socket::wait_read, tuple_awaitable);
                }
                if (stopping) co_return;
                const auto period = config.loop_period;
                const auto beats = (clock_type::now() - beat_origin) / period + 1;
                loop_timer.expires_at(beat_origin + beats * period);
            } else {
                loop_timer.expires_after(config.loop_period);
            }
            co_await loop_timer.async_wait(tuple_awaitable);
        }
    }

    awaitable<bool> connect(connection& conn, const act::connect& to, std::string& error) {
        boost::system::error_code ec;
        const auto host = asio::ip::make_address(to.address, ec);
        const auto local = asio::ip::make_address(config.bind_address, ec);
        if (ec) {
            error = ec.message();
            co_return false;
        }
        auto& s = conn.socket;
        s.open(host.is_v4() ? tcp::v4() : tcp::v6(), ec);
        // The device dials from its own address, so a host can accept only that address.
        if (!ec) s.bind(tcp::endpoint(local, 0), ec);
        if (!ec && config.recv_buffer > 0)
            s.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(config.recv_buffer)), ec);
        if (ec) {
            error = ec.message();
            co_return false;
        }
        asio::steady_timer deadline(executor, to.timeout);
        auto outcome = co_await (s.async_connect(tcp::endpoint(host, to.port), tuple_awaitable) ||
                                 deadline.async_wait(tuple_awaitable));
        if (outcome.index() == 1) {
            error = "timed out";
            co_return false;
        }
        if (auto [connect_ec] = std::get<0>(outcome); connect_ec) {
            error = connect_ec.message();
            co_return false;
        }
        s.set_option(tcp::no_delay(true), ec);  // "OTA sends little packets"
        s.non_blocking(true, ec);
        co_return true;
    }

    // Blocks like the firmware's wait loop: until bytes are there or the time is up. A FIN does not
    // end the wait early (the firmware only polls available()).
    awaitable<bool> wait_for_data(connection& conn, micros timeout) {
        const auto deadline = clock_type::now() + timeout;
        bool eof = false;
        while (!conn.closed && !stopping) {
            if (conn.available() > 0) co_return true;
            if (clock_type::now() >= deadline) co_return false;
            if (eof) {
                co_await sleep_until(deadline);
                co_return false;
            }
            asio::steady_timer timer(executor, deadline);
            auto outcome = co_await (conn.socket.async_wait(tcp::socket::wait_read, tuple_awaitable) ||
                                     timer.async_wait(tuple_awaitable));
            if (outcome.index() == 1) co_return conn.available() > 0;
            if (auto [ec] = std::get<0>(outcome); ec) eof = true;
            else if (conn.available() == 0) eof = !conn.peer_open();
        }
        co_return false;
    }

    bytes read_available(connection& conn, std::size_t max) {
        const std::size_t n = std::min(max, conn.available());
        if (n == 0) return {};
        bytes data(n);
        boost::system::error_code ec;
        const std::size_t got = conn.socket.read_some(asio::buffer(data), ec);
        data.resize(ec ? 0 : got);
        return data;
    }

    // Neither reads nor closes; ends when the host closes or resets the connection.
    awaitable<void> hold(connection& conn) {
        while (!conn.closed && !stopping) {
            pollfd p{conn.socket.native_handle(), POLLRDHUP, 0};
            if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) co_return;
            co_await sleep_until(clock_type::now() + hold_poll_period);
        }
    }

    awaitable<void> flush(connection& conn) {
        while (!conn.closed && !conn.queue.empty()) {
            conn.drained.expires_at(clock_type::time_point::max());
            co_await conn.drained.async_wait(tuple_awaitable);
        }
    }

    void finish(act::finished done) {
        update_event event = std::move(done.event);
        if (event.ok && !config.out_file.empty()) {
            if (auto written = write_file_atomic(config.out_file, done.image); written) {
                event.file = config.out_file;
            } else {
                note(log_level::error, written.error().message);
            }
        }
        note(event.ok ? log_level::info : log_level::warn,
             std::string("update ") + (event.ok ? "succeeded" : "failed") + " at " + event.stage + ": " + event.detail);
        events.on_event(event);
    }

    awaitable<void> run_update(accepted_update accepted) {
        auto self = shared_from_this();
        session_config sc;
        sc.kind = &kind;
        sc.faults = config.faults;
        sc.flash_space = config.flash_size;
        sc.flash_rate = config.flash_rate;
        sc.time_scale = config.time_scale;
        update_session session(sc, std::move(accepted));
        auto conn = std::make_shared<connection>(executor);
        active = conn;

        session_action next = session.start();
        while (!stopping) {
            if (auto* a = std::get_if<act::send_datagram>(&next)) {
                send_reply(udp_reply{a->to, a->payload});
                next = session.resume();
            } else if (auto* a = std::get_if<act::pause>(&next)) {
                co_await sleep_until(clock_type::now() + a->duration);
                next = session.resume();
            } else if (auto* a = std::get_if<act::connect>(&next)) {
                std::string error;
                const bool ok = co_await connect(*conn, *a, error);
                if (ok) {
                    note(log_level::debug, "connected to " + to_string(peer{a->address, a->port}));
                    asio::co_spawn(executor, run_writer(conn), completion("writer"));
                }
                next = session.on_connect(ok, error);
            } else if (std::holds_alternative<act::query_link>(next)) {
                next = session.on_link(conn->peer_open());
            } else if (auto* a = std::get_if<act::wait_for_data>(&next)) {
                next = session.on_wait(co_await wait_for_data(*conn, a->timeout));
            } else if (auto* a = std::get_if<act::read_available>(&next)) {
                const bytes data = read_available(*conn, a->max);
                next = session.on_read(data);
            } else if (auto* a = std::get_if<act::send_bytes>(&next)) {
                if (!conn->broken && !conn->closed) {
                    conn->queue.push_back({clock_type::now() + config.ack_latency, std::move(a->bytes)});
                    conn->wake.cancel();
                }
                next = session.resume();
            } else if (std::holds_alternative<act::flush_sent>(next)) {
                co_await flush(*conn);
                next = session.resume();
            } else if (auto* a = std::get_if<act::close_connection>(&next)) {
                conn->close(a->reset);
                next = session.resume();
            } else if (std::holds_alternative<act::hold_connection>(next)) {
                co_await hold(*conn);
                next = session.on_hold_ended();
            } else if (auto* a = std::get_if<act::finished>(&next)) {
                conn->close(false);
                finish(std::move(*a));
                break;
            }
        }
        conn->close(true);
        active.reset();
        listen.update_done();
    }
};

device::device(asio::any_io_executor executor, device_config config, event_sink& events, log_sink& log)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(config), events, log)) {}

device::~device() {
    if (impl_) impl_->stop();
}

result<void> device::start() { return impl_->start(); }
void device::stop() { impl_->stop(); }
std::string device::address() const { return impl_->local_peer().address; }
std::uint16_t device::port() const { return impl_->local_peer().port; }
std::string device::hostname() const { return impl_->hostname; }
std::string device::board() const { return impl_->board; }
bool device::has_password() const { return impl_->config.password.has_value(); }

}  // namespace otaflash::emulator::ota
