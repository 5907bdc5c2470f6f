// A remote serial line over TCP as a rom::port. "socket://" is the raw byte stream (QEMU, ser2net
// raw mode): no baud rate, no modem lines. "rfc2217://" speaks telnet with the COM-PORT-OPTION
// (RFC 2217): the baud rate and DTR/RTS travel as subnegotiations, data bytes 0xFF are doubled.

#include "serial/tty_port.hpp"

#include "serial/waiter.hpp"

#include <otaflash/proto/telnet/com_port.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <deque>

namespace otaflash::serial::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

using namespace otaflash::telnet;

constexpr auto connect_timeout = std::chrono::seconds(5);
constexpr auto control_timeout = std::chrono::seconds(3);

// Splits what the server sends into data bytes and telnet commands, and answers option requests.
class telnet_parser {
public:
    // Data goes to `data`; answers to the server's option requests go to `answers`. The server's
    // subnegotiations (acknowledgements, line state) are not needed.
    void feed(byte_view in, bytes& data, bytes& answers) {
        events_.clear();
        decoder_.feed(in, events_);
        for (const auto& e : events_) {
            if (e.what == event::kind::data) data.insert(data.end(), e.data.begin(), e.data.end());
            else if (e.what == event::kind::negotiation) answer(e.verb, e.option, answers);
        }
    }

private:
    void answer(std::uint8_t verb, std::uint8_t option, bytes& out) {
        // Agree to what we want, refuse the rest, and never repeat ourselves (no negotiation loops).
        const auto reply = telnet::answer(verb, option);
        if (!reply) return;  // WONT / DONT: nothing to say
        auto key = static_cast<std::uint16_t>(*reply << 8 | option);
        for (auto said : said_)
            if (said == key) return;
        said_.push_back(key);
        out.insert(out.end(), {iac, *reply, option});
    }

    decoder decoder_;
    std::vector<event> events_;
    std::vector<std::uint16_t> said_;
};

class tcp_port final : public rom::port {
public:
    tcp_port(std::string spec, bool rfc2217, const port_options& options, log_sink& log)
        : spec_(std::move(spec)), rfc2217_(rfc2217), waiter_(options.catch_signals), socket_(waiter_.context()), log_(log) {}

    ~tcp_port() override {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
    }

    result<void> open(const std::string& host, const std::string& service, const port_options& options) {
        if (auto f = waiter_.interruption()) return *f;
        tcp::resolver resolver(waiter_.context());
        tcp::resolver::results_type endpoints;
        auto resolved = waiter_.run(
            [&](auto handler) {
                resolver.async_resolve(host, service, [&, handler](const boost::system::error_code& ec, tcp::resolver::results_type r) {
                    endpoints = std::move(r);
                    handler(ec, 0);
                });
            },
            [&] { resolver.cancel(); }, rom::clock::now() + connect_timeout);
        if (auto f = waiter_.interruption()) return *f;
        if (resolved.ec || resolved.timed_out)
            return make_failure(errc::host_not_found, "cannot resolve '" + host + "' for " + spec_ + ": " +
                                                          (resolved.timed_out ? "timed out" : resolved.ec.message()),
                                "check the host name in the port");
        auto connected = waiter_.run(
            [&](auto handler) {
                asio::async_connect(socket_, endpoints, [handler](const boost::system::error_code& ec, const tcp::endpoint&) {
                    handler(ec, 0);
                });
            },
            [&] {
                boost::system::error_code ignored;
                socket_.close(ignored);
            },
            rom::clock::now() + connect_timeout);
        if (auto f = waiter_.interruption()) return *f;
        if (connected.ec || connected.timed_out)
            return make_failure(errc::serial_port_not_found,
                                "cannot connect to " + spec_ + ": " + (connected.timed_out ? "timed out" : connected.ec.message()),
                                "check that the serial server runs and listens on that port");
        boost::system::error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);  // one small reply per block: no Nagle delay
        if (rfc2217_) {
            bytes hello = {iac, will, opt_binary, iac, do_, opt_binary, iac, will, opt_com_port, iac, do_, opt_sga};
            auto sent = send_raw(hello, rom::clock::now() + control_timeout);
            if (!sent) return sent;
            for (auto [cmd, value] : {std::pair{set_datasize, std::uint8_t{8}}, {set_parity, parity_none},
                                      {set_stopsize, stopsize_one}}) {
                auto set = send_control(cmd, bytes{value});
                if (!set) return set;
            }
        }
        return set_baud(options.baud);
    }

    rom::time_point now() override { return rom::clock::now(); }

    result<void> write(byte_view data, rom::time_point deadline) override {
        if (!rfc2217_) return send_raw(data, deadline);
        return send_raw(escape(data), deadline);
    }

    result<std::size_t> read(std::span<std::uint8_t> into, rom::time_point deadline) override {
        for (;;) {
            if (!pending_.empty()) {
                const std::size_t n = std::min(into.size(), pending_.size());
                std::copy_n(pending_.begin(), n, into.begin());
                pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
                return n;
            }
            std::array<std::uint8_t, 4096> buffer;
            auto r = waiter_.read_some(socket_, buffer, deadline);
            if (!r) return std::move(r).error();
            if (r->timed_out || r->ec == asio::error::operation_aborted) {
                if (r->bytes == 0) return std::size_t{0};
            } else if (r->ec) {
                return make_failure(errc::connection_lost, spec_ + " closed the connection (" + r->ec.message() + ")",
                                    "the serial server went away: check it and run again");
            }
            const byte_view got(buffer.data(), r->bytes);
            if (!rfc2217_) {
                pending_.insert(pending_.end(), got.begin(), got.end());
                continue;
            }
            bytes data, answers;
            telnet_.feed(got, data, answers);
            pending_.insert(pending_.end(), data.begin(), data.end());
            if (!answers.empty()) {
                auto sent = send_raw(answers, rom::clock::now() + control_timeout);
                if (!sent) return std::move(sent).error();
            }
            if (pending_.empty() && rom::clock::now() >= deadline) return std::size_t{0};
        }
    }

    void discard_input() override {
        pending_.clear();
        // Drop what the socket already holds, without waiting.
        for (;;) {
            boost::system::error_code ec;
            const std::size_t available = socket_.available(ec);
            if (ec || available == 0) return;
            std::array<std::uint8_t, 4096> buffer;
            const std::size_t n = socket_.read_some(asio::buffer(buffer, std::min(available, buffer.size())), ec);
            if (ec) return;
            if (rfc2217_) {
                bytes data, answers;
                telnet_.feed(byte_view(buffer.data(), n), data, answers);
                if (!answers.empty()) (void)send_raw(answers, rom::clock::now() + control_timeout);
            }
        }
    }

    result<void> set_baud(std::uint32_t baud) override {
        baud_ = baud;
        if (!rfc2217_) {
            log_.write(log_level::debug, spec_ + " is a raw socket: the baud rate is the server's business");
            return {};
        }
        return send_control(set_baudrate, baud_value(baud));
    }

    std::uint32_t baud() const override { return baud_; }

    result<bool> set_lines(bool dtr, bool rts) override {
        if (!rfc2217_) return false;
        // Two messages, so the server passes through one of the mixed states between them. Assert
        // first, release second: the passage is then through "both asserted", which the usual
        // two-transistor circuit ignores, never through "both released" with EN going high early.
        std::vector<std::uint8_t> order;
        if (dtr) order.push_back(control_dtr_on);
        if (rts) order.push_back(control_rts_on);
        if (!dtr) order.push_back(control_dtr_off);
        if (!rts) order.push_back(control_rts_off);
        for (auto code : order) {
            auto sent = send_control(set_control, bytes{code});
            if (!sent) return std::move(sent).error();
        }
        return true;
    }

    result<void> sleep_until(rom::time_point until) override { return waiter_.sleep_until(until); }

    std::string name() const override { return spec_; }

private:
    result<void> send_raw(byte_view data, rom::time_point deadline) {
        auto r = waiter_.write_all(socket_, data, deadline);
        if (!r) return std::move(r).error();
        if (r->timed_out)
            return make_failure(errc::connection_lost, "could not send to " + spec_ + " in time",
                                "the serial server does not read: check it");
        if (r->ec)
            return make_failure(errc::connection_lost, "sending to " + spec_ + " failed: " + r->ec.message(),
                                "the serial server went away: check it and run again");
        return {};
    }

    result<void> send_control(std::uint8_t command, const bytes& value) {
        return send_raw(com_port_message(command, value), rom::clock::now() + control_timeout);
    }

    std::string spec_;
    bool rfc2217_;
    waiter waiter_;
    tcp::socket socket_;
    log_sink& log_;
    telnet_parser telnet_;
    std::deque<std::uint8_t> pending_;
    std::uint32_t baud_ = 0;
};

}  // namespace

result<std::unique_ptr<rom::port>> open_tcp(const std::string& host, const std::string& service, bool rfc2217,
                                            const std::string& spec, const port_options& options, log_sink& log) {
    auto p = std::make_unique<tcp_port>(spec, rfc2217, options, log);
    auto opened = p->open(host, service, options);
    if (!opened) return std::move(opened).error();
    return std::unique_ptr<rom::port>(std::move(p));
}

}  // namespace otaflash::serial::detail
