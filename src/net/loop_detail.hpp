#pragma once
// The Asio side of event_loop and connect_back_listener, for the io sources that need it.

#include <otaflash/net/connect_back_listener.hpp>
#include <otaflash/net/event_loop.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::net {

struct event_loop::impl {
    boost::asio::io_context io{1};
    std::optional<boost::asio::signal_set> signals;
    std::function<void(int)> on_signal;
    std::map<timer_id, std::unique_ptr<boost::asio::steady_timer>> timers;
    timer_id next_timer = 1;
    void wait_for_signal();
};

// An IPv4-mapped IPv6 address (from a dual-stack socket) as the IPv4 address it stands for.
boost::asio::ip::address unmapped(const boost::asio::ip::address& a);

struct connect_back_listener::impl {
    using handler = std::function<void(boost::asio::ip::tcp::socket)>;

    impl(boost::asio::io_context& io, log_sink& log) : acceptor(io), pause(io), log(log) {}

    boost::asio::ip::tcp::acceptor acceptor;
    // After a failed accept (out of file descriptors, say) the next try waits a moment: the
    // pending connection stays queued, and trying again at once would spin the loop.
    boost::asio::steady_timer pause;
    log_sink& log;
    std::string address;
    std::uint16_t port = 0;
    std::map<boost::asio::ip::address, handler> expected;  // device address -> its session

    // The next connection from `device` goes to `h` (once); a later expect() replaces it.
    void expect(const boost::asio::ip::address& device, handler h);
    void forget(const boost::asio::ip::address& device);
    void accept_next();
};

}  // namespace otaflash::net
