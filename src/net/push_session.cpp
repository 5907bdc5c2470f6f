#include <otaflash/net/push_session.hpp>

#include "net/loop_detail.hpp"

#include <otaflash/util/endpoint_text.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <type_traits>

namespace otaflash::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using steady = std::chrono::steady_clock;

struct push_session::impl {
    impl(event_loop& loop, connect_back_listener& listener, asio::ip::address device, espota::session_config config,
         byte_view image, progress_sink& progress, log_sink& log, password_provider ask)
        : io(loop.native().io), listener(listener.native()), device(device), udp_socket(io), timer(io),
          core(std::move(config)), image(image), progress(progress), log(log), ask(std::move(ask)) {}

    asio::io_context& io;
    connect_back_listener::impl& listener;
    asio::ip::address device;
    udp::socket udp_socket;
    std::optional<tcp::socket> connection;
    asio::steady_timer timer;
    espota::session core;
    byte_view image;
    progress_sink& progress;
    log_sink& log;
    password_provider ask;
    std::function<void()> on_done;

    std::array<std::uint8_t, 1500> datagram{};
    udp::endpoint datagram_from;
    std::array<std::uint8_t, 4096> received{};
    std::uint64_t timer_generation = 0;
    bool released = false;

    void start() {
        receive_datagram();
        listener.expect(device, [this](tcp::socket socket) { on_connection(std::move(socket)); });
        apply(core.start(steady::now()));
    }

    void apply(espota::step st) {
        for (auto& e : st.effects) {
            std::visit([this](auto& effect) { perform(effect); }, e);
            if (released) return;
        }
        arm(st.deadline);
    }

    void arm(const std::optional<espota::time_point>& deadline) {
        ++timer_generation;
        timer.cancel();
        if (!deadline) return;
        timer.expires_at(*deadline);
        timer.async_wait([this, generation = timer_generation](const boost::system::error_code& ec) {
            if (ec || released || generation != timer_generation) return;
            apply(core.on_timeout(steady::now()));
        });
    }

    // --- effects -----------------------------------------------------------------------------
    void perform(espota::send_datagram& d) {
        if (log.enabled(log_level::trace))
            log.write(log_level::trace, "udp -> " + endpoint_text(device.to_string(), d.port) + ": " +
                                            (d.sensitive ? std::string{"200 <answer redacted>"}
                                                         : espota::printable(d.payload)));
        auto payload = std::make_shared<std::string>(std::move(d.payload));
        udp_socket.async_send_to(asio::buffer(*payload), udp::endpoint{device, d.port},
                                 [this, payload, port = d.port](const boost::system::error_code& ec, std::size_t) {
                                     if (ec && ec != asio::error::operation_aborted && !released)
                                         log.write(log_level::debug, "sending to port " + std::to_string(port) +
                                                                         " failed: " + ec.message());
                                 });
    }

    void perform(espota::ask_password&) {
        // Posted: a prompt blocks the loop, and the answer must not re-enter apply().
        asio::post(io, [this] {
            if (released) return;
            auto password = ask ? ask() : std::nullopt;
            apply(core.on_password(std::move(password), steady::now()));
        });
    }

    void perform(espota::write_data& w) {
        if (!connection) return;
        asio::async_write(*connection, asio::buffer(image.data() + w.offset, w.length),
                          [this](const boost::system::error_code& ec, std::size_t n) {
                              if (released || ec == asio::error::operation_aborted) return;
                              if (ec) {
                                  log.write(log_level::debug, "write failed: " + ec.message());
                                  apply(core.on_closed(true, steady::now()));
                                  return;
                              }
                              apply(core.on_sent(n, steady::now()));
                          });
    }

    void perform(espota::close_connection& c) { close_tcp(c.abortive); }

    void perform(espota::phase_started& p) {
        if (log.enabled(log_level::info))
            log.write(log_level::info, std::string{phase_name(p.which)} + (p.detail.empty() ? "" : ": " + p.detail));
        progress.phase_begin(p.which, p.detail);
    }
    void perform(espota::phase_finished& p) { progress.phase_end(p.which, p.outcome); }
    void perform(espota::bytes_progress& b) { progress.bytes_done(b.done, b.total); }
    void perform(espota::log_note& n) {
        if (log.enabled(n.level)) log.write(n.level, n.text);
    }
    void perform(espota::session_finished&) { release(); }

    // --- sockets -----------------------------------------------------------------------------
    void receive_datagram() {
        udp_socket.async_receive_from(asio::buffer(datagram), datagram_from,
                                      [this](const boost::system::error_code& ec, std::size_t n) {
                                          if (released || ec == asio::error::operation_aborted) return;
                                          if (ec) {
                                              // ICMP "port unreachable" from a probed port: keep listening.
                                              log.write(log_level::debug, "udp receive: " + ec.message());
                                          } else if (unmapped(datagram_from.address()) != device) {
                                              log.write(log_level::debug, "ignored a datagram from " +
                                                                              datagram_from.address().to_string());
                                          } else {
                                              if (log.enabled(log_level::trace))
                                                  log.write(log_level::trace,
                                                            "udp <- " + std::to_string(datagram_from.port()) + ": " +
                                                                espota::printable(as_text(byte_view{datagram.data(), n})));
                                              apply(core.on_datagram(datagram_from.port(), byte_view{datagram.data(), n},
                                                                     steady::now()));
                                          }
                                          if (!released) receive_datagram();
                                      });
    }

    void on_connection(tcp::socket socket) {
        if (released || connection) {
            boost::system::error_code ignored;
            socket.set_option(asio::socket_base::linger(true, 0), ignored);
            socket.close(ignored);
            return;
        }
        boost::system::error_code ec;
        socket.set_option(tcp::no_delay(true), ec);
        const auto& cfg = core.config();
        if (cfg.window > 1) {
            // Bound what waits in our kernel beyond what the device has taken: the window.
            socket.set_option(asio::socket_base::send_buffer_size(static_cast<int>(cfg.window * espota::chunk_size)), ec);
        }
        connection.emplace(std::move(socket));
        read_acks();
        apply(core.on_accepted(steady::now()));
    }

    void read_acks() {
        if (!connection) return;
        connection->async_read_some(asio::buffer(received), [this](const boost::system::error_code& ec, std::size_t n) {
            if (released || ec == asio::error::operation_aborted) return;
            if (ec) {
                const bool clean = ec == asio::error::eof;
                log.write(log_level::debug, std::string{"connection "} + (clean ? "closed by the device" : ec.message()));
                apply(core.on_closed(!clean, steady::now()));
                return;
            }
            if (log.enabled(log_level::trace))
                log.write(log_level::trace, "tcp <- " + espota::printable(as_text(byte_view{received.data(), n})));
            apply(core.on_received(byte_view{received.data(), n}, steady::now()));
            if (!released) read_acks();
        });
    }

    void close_tcp(bool abortive) {
        if (!connection) return;
        boost::system::error_code ignored;
        if (abortive) connection->set_option(asio::socket_base::linger(true, 0), ignored);
        else connection->shutdown(tcp::socket::shutdown_both, ignored);
        connection->close(ignored);
        connection.reset();
    }

    void release() {
        if (released) return;
        released = true;
        ++timer_generation;
        timer.cancel();
        listener.forget(device);
        close_tcp(core.report().error.has_value());
        boost::system::error_code ignored;
        udp_socket.close(ignored);
        if (on_done) asio::post(io, std::move(on_done));
    }
};

push_session::push_session(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
push_session::~push_session() = default;

result<std::unique_ptr<push_session>> push_session::create(event_loop& loop, connect_back_listener& listener,
                                                           const push_endpoints& endpoints,
                                                           espota::session_config config, byte_view image,
                                                           progress_sink& progress, log_sink& log,
                                                           password_provider ask_password) {
    boost::system::error_code ec;
    const auto device = unmapped(asio::ip::make_address(endpoints.device_address, ec));
    if (ec) return make_failure(errc::target_invalid, "'" + endpoints.device_address + "' is not an IP address", "");
    const auto local = asio::ip::make_address(endpoints.local_address, ec);
    if (ec) return make_failure(errc::usage_error, "'" + endpoints.local_address + "' is not an IP address", "");
    if (local.is_v4() != device.is_v4())
        return make_failure(errc::usage_error,
                            "the local address " + endpoints.local_address + " and the device " +
                                endpoints.device_address + " are not both IPv4 or both IPv6",
                            "give --host-ip an address of the same family as the device");
    config.device_address = device.to_string();
    config.listen_address = local.to_string();
    config.host_port = listener.port();
    auto i = std::make_unique<impl>(loop, listener, device, std::move(config), image, progress, log,
                                    std::move(ask_password));
    const udp::endpoint bind_to{local, 0};
    i->udp_socket.open(bind_to.protocol(), ec);
    if (!ec) i->udp_socket.bind(bind_to, ec);
    if (ec)
        return make_failure(errc::bind_failed,
                            "cannot use local address " + endpoints.local_address + " for UDP: " + ec.message(),
                            "give --host-ip one of this machine's addresses on the device's network");
    return std::unique_ptr<push_session>(new push_session(std::move(i)));
}

void push_session::start(std::function<void()> on_done) {
    impl_->on_done = std::move(on_done);
    impl_->start();
}

void push_session::cancel(failure why) {
    if (impl_->released) return;
    impl_->apply(impl_->core.cancel(std::move(why), steady::now()));
}

bool push_session::finished() const noexcept { return impl_->core.finished(); }
const espota::session_report& push_session::report() const noexcept { return impl_->core.report(); }

}  // namespace otaflash::net
