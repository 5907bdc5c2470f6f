#pragma once
// What every connection of the HTTP backend shares: the settings, the catalog, the event sink,
// the listeners and the set of live connections (for a graceful stop). Asio/Beast side only.

#include <otaflash/server/http/http_backend.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace otaflash::server::http {

// A connection as the backend sees it when stopping.
class connection {
public:
    virtual ~connection() = default;
    virtual void close_if_idle() = 0;  // no request in progress: close now
    virtual void cut() = 0;            // close even in the middle of a response
};

struct listener {
    listener(boost::asio::io_context& io, bool tls) : acceptor(io), pause(io), tls(tls) {}
    boost::asio::ip::tcp::acceptor acceptor;
    boost::asio::steady_timer pause;  // after a failed accept (out of descriptors): wait, then retry
    bool tls;
    std::string url;
};

struct server_state {
    server_state(boost::asio::io_context& io, settings s) : io(io), options(std::move(s)) {}

    boost::asio::io_context& io;
    settings options;
    const release::catalog* catalog = nullptr;
    serve::event_sink sink;
    std::unique_ptr<boost::asio::ssl::context> tls;
    std::vector<std::unique_ptr<listener>> listeners;
    std::set<connection*> live;
    bool stopping = false;
    std::function<void()> on_idle;  // once stopping and the last connection has gone

    void forget(connection* c);
};

// Starts serving one accepted connection (TLS handshake first on a TLS listener).
void serve_connection(const std::shared_ptr<server_state>& state, boost::asio::ip::tcp::socket socket, bool tls);

}  // namespace otaflash::server::http
