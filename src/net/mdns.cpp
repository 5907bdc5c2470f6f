#include <otaflash/net/mdns.hpp>

#include <otaflash/io/interrupt.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <random>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace otaflash::net {
namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;

namespace {

std::vector<asio::ip::address_v4> interface_addresses(const mdns_options& options, std::string& error) {
    std::vector<asio::ip::address_v4> out;
    if (!options.interfaces.empty()) {
        for (const auto& text : options.interfaces) {
            boost::system::error_code ec;
            auto a = asio::ip::make_address_v4(text, ec);
            if (ec) {
                error = "'" + text + "' is not an IPv4 interface address";
                return {};
            }
            out.push_back(a);
        }
        return out;
    }
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return {asio::ip::address_v4::loopback()};
    for (ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
        if (!(i->ifa_flags & (IFF_MULTICAST | IFF_LOOPBACK))) continue;
        auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
        auto a = asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    ::freeifaddrs(list);
    return out;
}

// One socket on the mDNS port (shared with other responders through SO_REUSEPORT) joined to the
// group on every chosen interface. When the port cannot be shared, queries go out from an
// ephemeral port and responders answer by unicast (RFC 6762 §6.7 "legacy" queries).
struct mdns_socket {
    udp::socket socket;
    std::vector<asio::ip::address_v4> interfaces;
    udp::endpoint group;
    bool on_mdns_port = false;

    explicit mdns_socket(asio::io_context& io) : socket(io) {}

    result<void> open(const mdns_options& options, bool must_own_port, log_sink& log) {
        std::string bad;
        interfaces = interface_addresses(options, bad);
        if (!bad.empty()) return make_failure(errc::usage_error, bad, "give the IPv4 address of a local interface");
        boost::system::error_code ec;
        auto group_address = asio::ip::make_address_v4(options.group, ec);
        if (ec) return make_failure(errc::usage_error, "bad mDNS group " + options.group);
        group = udp::endpoint(group_address, options.port);
        socket.open(udp::v4(), ec);
        if (ec) return make_failure(errc::bind_failed, "cannot open a UDP socket: " + ec.message());
        socket.set_option(udp::socket::reuse_address(true), ec);
        // A browse on a busy network (or of an emulated fleet) draws many answers at once; the
        // kernel caps this at net.core.rmem_max, and a smaller buffer only means requery losses.
        socket.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
        int one = 1;
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        socket.bind(udp::endpoint(asio::ip::address_v4::any(), options.port), ec);
        if (ec) {
            if (must_own_port)
                return make_failure(errc::bind_failed,
                                    "cannot bind UDP port " + std::to_string(options.port) + ": " + ec.message(),
                                    "another mDNS responder holds the port without sharing it");
            if (log.enabled(log_level::debug))
                log.write(log_level::debug, "mDNS port busy (" + ec.message() + "); asking from an ephemeral port");
            socket.close();
            socket.open(udp::v4());
            socket.bind(udp::endpoint(asio::ip::address_v4::any(), 0), ec);
            if (ec) return make_failure(errc::bind_failed, "cannot bind a UDP socket: " + ec.message());
        } else {
            on_mdns_port = true;
        }
        socket.set_option(asio::ip::multicast::enable_loopback(true), ec);
        socket.set_option(asio::ip::multicast::hops(255), ec);
        for (const auto& itf : interfaces) {
            boost::system::error_code join_ec;
            if (on_mdns_port) socket.set_option(asio::ip::multicast::join_group(group_address, itf), join_ec);
            if (join_ec && log.enabled(log_level::debug))
                log.write(log_level::debug, "cannot join mDNS group on " + itf.to_string() + ": " + join_ec.message());
        }
        return {};
    }

    void send_everywhere(const bytes& datagram, log_sink& log) {
        for (const auto& itf : interfaces) {
            boost::system::error_code ec;
            socket.set_option(asio::ip::multicast::outbound_interface(itf), ec);
            if (!ec) socket.send_to(asio::buffer(datagram), group, 0, ec);
            if (ec && log.enabled(log_level::debug))
                log.write(log_level::debug, "mDNS query on " + itf.to_string() + " failed: " + ec.message());
        }
    }
};

// Sends `first`, then whatever `next()` asks for, at 0, 250 ms, 1 s, 2 s …, and feeds every answer
// to `on_answer`, until `done()` or the deadline. SIGINT or SIGTERM ends it with the interruption.
template <class Next, class OnAnswer, class Done>
result<void> query_loop(const mdns_options& options, const mdns::message& first, Next next, OnAnswer on_answer,
                        Done done, log_sink& log) {
    asio::io_context io;
    mdns_socket s{io};
    if (auto opened = s.open(options, false, log); !opened) return opened;
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    asio::signal_set signals{io, SIGINT, SIGTERM};
    int interrupted_by = 0;
    signals.async_wait([&](const boost::system::error_code& ec, int number) {
        if (ec) return;
        io::latch_interrupt(number);
        interrupted_by = number;
        s.socket.cancel();
    });

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::array<std::uint8_t, 9000> buffer{};
            udp::endpoint from;
            asio::steady_timer resend{io};
            auto interval = 250ms;
            s.send_everywhere(mdns::encode(first), log);
            auto next_send = std::chrono::steady_clock::now() + interval;
            for (;;) {
                auto now = std::chrono::steady_clock::now();
                if (now >= deadline || done() || interrupted_by != 0) co_return;
                if (now >= next_send) {
                    auto q = next();
                    s.send_everywhere(mdns::encode(q ? *q : first), log);
                    interval = std::min<std::chrono::milliseconds>(interval * 2, 2000ms);
                    next_send = now + interval;
                }
                resend.expires_at(std::min(next_send, deadline));
                resend.async_wait([&](boost::system::error_code ec) {
                    if (!ec) s.socket.cancel();
                });
                auto [ec, n] = co_await s.socket.async_receive_from(asio::buffer(buffer), from,
                                                                    asio::as_tuple(asio::use_awaitable));
                resend.cancel();
                if (ec) continue;  // timer fired: time to resend or stop
                auto msg = mdns::decode(byte_view(buffer.data(), n));
                if (!msg) {
                    if (log.enabled(log_level::debug))
                        log.write(log_level::debug, "ignoring a datagram from " + from.address().to_string() + ": " +
                                                        msg.error().message);
                    continue;
                }
                on_answer(*msg);
            }
        },
        [&](std::exception_ptr) { signals.cancel(); });
    io.run();
    if (interrupted_by != 0) return io::interrupted_failure(interrupted_by, " while waiting for mDNS answers");
    return {};
}

bool ends_with_local(const std::string& host) {
    constexpr std::string_view suffix = ".local";
    if (host.size() <= suffix.size()) return false;
    for (std::size_t i = 0; i < suffix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(host[host.size() - suffix.size() + i])) != suffix[i]) return false;
    return true;
}

}  // namespace

bool is_local_name(const std::string& host) noexcept { return ends_with_local(host); }

result<std::vector<mdns::service_instance>> browse(const std::string& service, const mdns_options& options,
                                                    log_sink& log) {
    mdns::browse_collector collector{service};
    auto ran = query_loop(
        options, mdns::browse_query(service), [&] { return collector.follow_up(); },
        [&](const mdns::message& m) { collector.add(m); }, [] { return false; }, log);
    if (!ran) return ran.error();
    return collector.instances();
}

result<std::vector<std::string>> resolve_local_name(const std::string& host, const mdns_options& options,
                                                     log_sink& log) {
    std::vector<std::string> found;
    auto query = mdns::address_query(host);
    auto ran = query_loop(
        options, query, [&] { return std::optional<mdns::message>{query}; },
        [&](const mdns::message& m) {
            for (auto& a : mdns::addresses_for(m, host))
                if (std::find(found.begin(), found.end(), a) == found.end()) found.push_back(a);
        },
        [&] { return !found.empty(); }, log);
    if (!ran) return ran.error();
    if (found.empty())
        return make_failure(errc::host_not_found,
                            "no answer to an mDNS query for " + host + " within " +
                                std::to_string(options.timeout.count()) + " ms",
                            "check that the device is powered and on this network, or use its IP address "
                            "(otaflash discover lists the devices that answer)");
    return found;
}

struct mdns_responder::impl : std::enable_shared_from_this<mdns_responder::impl> {
    asio::io_context& io;
    std::vector<mdns::advertisement> ads;
    mdns_options options;
    log_sink& log;
    mdns_socket s;
    std::minstd_rand random{std::random_device{}()};

    impl(asio::io_context& i, std::vector<mdns::advertisement> a, const mdns_options& o, log_sink& l)
        : io(i), ads(std::move(a)), options(o), log(l), s(i) {}

    void note(log_level level, const std::string& text) {
        if (log.enabled(level)) log.write(level, "mDNS responder: " + text);
    }

    void send(const bytes& wire, const std::optional<udp::endpoint>& to) {
        if (!s.socket.is_open()) return;
        if (!to) return s.send_everywhere(wire, log);
        boost::system::error_code ec;
        s.socket.send_to(asio::buffer(wire), *to, 0, ec);
        if (ec) note(log_level::debug, "answer to " + to->address().to_string() + " failed: " + ec.message());
    }

    // Shared answers (many devices send them for one browse) wait 20-120 ms (RFC 6762 §6), so a
    // fleet's answers do not all land in the querier's receive buffer in the same instant.
    void send_later(bytes wire) {
        auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(20 + random() % 101));
        timer->async_wait([self = shared_from_this(), timer, wire = std::move(wire)](boost::system::error_code ec) {
            if (!ec) self->send(wire, std::nullopt);
        });
    }

    void on_query(const mdns::message& query, const udp::endpoint& from) {
        const bool legacy = from.port() != options.port;
        const bool unicast = legacy || std::any_of(query.questions.begin(), query.questions.end(),
                                                   [](const auto& q) { return q.unicast_response; });
        for (const auto& ad : ads) {
            auto reply = mdns::answer(query, ad);
            if (!reply) continue;
            if (legacy) reply = mdns::legacy_reply(std::move(*reply), query);
            bytes wire = mdns::encode(*reply);
            if (unicast) send(wire, from);
            else if (mdns::has_shared_answer(*reply)) send_later(std::move(wire));
            else send(wire, std::nullopt);
        }
    }

    asio::awaitable<void> serve() {
        auto self = shared_from_this();
        std::array<std::uint8_t, 9000> buffer{};
        udp::endpoint from;
        for (;;) {
            auto [ec, n] =
                co_await s.socket.async_receive_from(asio::buffer(buffer), from, asio::as_tuple(asio::use_awaitable));
            if (ec == asio::error::operation_aborted || !s.socket.is_open()) co_return;
            if (ec) continue;
            auto query = mdns::decode(byte_view(buffer.data(), n));
            if (!query || query->response) continue;
            on_query(*query, from);
        }
    }
};

mdns_responder::mdns_responder(asio::io_context& io, std::vector<mdns::advertisement> ads, const mdns_options& options,
                               log_sink& log)
    : impl_(std::make_shared<impl>(io, std::move(ads), options, log)) {}

mdns_responder::~mdns_responder() {
    boost::system::error_code ec;
    impl_->s.socket.close(ec);
}

result<void> mdns_responder::start() {
    if (auto opened = impl_->s.open(impl_->options, true, impl_->log); !opened) return opened;
    asio::co_spawn(impl_->io, impl_->serve(), [self = impl_](std::exception_ptr error) {
        if (!error) return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            self->note(log_level::error, std::string("stopped: ") + e.what());
        }
    });
    return {};
}

}  // namespace otaflash::net
