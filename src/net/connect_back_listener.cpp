#include "net/loop_detail.hpp"

#include <otaflash/net/bind_failure.hpp>
#include <otaflash/util/endpoint_text.hpp>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/socket_base.hpp>

namespace otaflash::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::ip::address unmapped(const asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    return a;
}

namespace {

constexpr auto accept_retry_pause = std::chrono::milliseconds(100);

// Reset, not FIN: the peer learns at once that nobody will serve it.
void reset_and_close(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
}

}  // namespace

void connect_back_listener::impl::expect(const asio::ip::address& device, handler h) {
    expected[unmapped(device)] = std::move(h);
}

void connect_back_listener::impl::forget(const asio::ip::address& device) { expected.erase(unmapped(device)); }

void connect_back_listener::impl::accept_next() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
        if (ec) {
            log.write(log_level::warn, "accepting a connection failed: " + ec.message() + "; trying again shortly");
            pause.expires_after(accept_retry_pause);
            pause.async_wait([this](const boost::system::error_code& wait_ec) {
                if (!wait_ec && acceptor.is_open()) accept_next();
            });
            return;
        }
        boost::system::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        const auto from = unmapped(peer.address());
        auto it = peer_ec ? expected.end() : expected.find(from);
        if (it == expected.end()) {
            log.write(log_level::warn, "refused a connection from " +
                                           (peer_ec ? std::string{"an unknown peer"} : endpoint_text(from.to_string(), peer.port())) +
                                           ": not a device being updated");
            reset_and_close(socket);
        } else {
            auto deliver = std::move(it->second);
            expected.erase(it);
            if (log.enabled(log_level::debug))
                log.write(log_level::debug, "the device connected from " + endpoint_text(from.to_string(), peer.port()));
            deliver(std::move(socket));
        }
        accept_next();
    });
}

connect_back_listener::connect_back_listener(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
connect_back_listener::~connect_back_listener() { close(); }

result<std::unique_ptr<connect_back_listener>> connect_back_listener::open(event_loop& loop,
                                                                           const std::string& bind_address,
                                                                           std::uint16_t port, log_sink& log) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(bind_address, ec);
    if (ec)
        return make_failure(errc::usage_error, "'" + bind_address + "' is not an IP address",
                            "give --host-ip as a numeric address of this machine");
    auto i = std::make_unique<impl>(loop.native().io, log);
    const tcp::endpoint endpoint{address, port};
    i->acceptor.open(endpoint.protocol(), ec);
    if (!ec && address.is_v6() && address.is_unspecified()) i->acceptor.set_option(asio::ip::v6_only(false), ec);
    if (!ec) i->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) i->acceptor.bind(endpoint, ec);
    if (!ec) i->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return bind_failure(bind_address, port, ec, {"--host-ip", "--host-port"});
    const auto local = i->acceptor.local_endpoint(ec);
    if (ec) return bind_failure(bind_address, port, ec, {"--host-ip", "--host-port"});
    i->address = local.address().to_string();
    i->port = local.port();
    i->accept_next();
    return std::unique_ptr<connect_back_listener>(new connect_back_listener(std::move(i)));
}

std::uint16_t connect_back_listener::port() const noexcept { return impl_->port; }
const std::string& connect_back_listener::address() const noexcept { return impl_->address; }

void connect_back_listener::close() {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->pause.cancel();
    impl_->expected.clear();
}

}  // namespace otaflash::net
