#pragma once
// One io_context per port, run one operation at a time under a deadline, with SIGINT/SIGTERM
// turned into failures. The ports below use it for every read, write and sleep; it is the only
// place that decides whether a wait ended by data, by the deadline or by a signal.

#include <otaflash/io/interrupt.hpp>
#include <otaflash/proto/rom/port.hpp>
#include <otaflash/result.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <csignal>
#include <optional>
#include <span>

namespace otaflash::serial::detail {

struct wait_result {
    boost::system::error_code ec;
    std::size_t bytes = 0;
    bool timed_out = false;
};

class waiter {
public:
    explicit waiter(bool catch_signals)
        : timer_(io_), signals_(io_) {
        if (!catch_signals) return;
        signals_.add(SIGINT);
        signals_.add(SIGTERM);
        signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
            if (ec) return;
            signal_ = signo;
            io::latch_interrupt(signo);
        });
    }

    boost::asio::io_context& context() noexcept { return io_; }

    // The failure for an interruption, when one happened (checked before and after every wait).
    std::optional<failure> interruption() {
        if (io_.stopped()) io_.restart();
        io_.poll();  // a signal that came while nobody waited
        if (!signal_) return std::nullopt;
        return io::interrupted_failure(*signal_, {},
                                       "nothing after this point was confirmed; run the command again to finish the job");
    }

    // Starts `start(handler)` and runs until it completes; at `deadline` or on a signal, `cancel()`
    // makes it complete early (its error code is then operation_aborted, and `timed_out` tells why).
    template <class Start, class Cancel>
    wait_result run(Start&& start, Cancel&& cancel, rom::time_point deadline) {
        if (io_.stopped()) io_.restart();
        wait_result out;
        bool done = false, timer_done = false, cancelled = false;
        start([&](const boost::system::error_code& ec, std::size_t n) {
            done = true;
            out.ec = ec;
            out.bytes = n;
        });
        timer_.expires_at(deadline);
        timer_.async_wait([&](const boost::system::error_code& ec) {
            timer_done = true;
            if (!ec && !done) {
                out.timed_out = true;
                cancelled = true;
                cancel();
            }
        });
        while (!done) {
            if (io_.run_one() == 0) io_.restart();
            if (signal_ && !done && !cancelled) {
                cancelled = true;
                cancel();
            }
        }
        timer_.cancel();
        while (!timer_done) {
            if (io_.run_one() == 0) io_.restart();
        }
        return out;
    }

    // All of `data` onto `stream` (a serial port or a socket) by `deadline`.
    template <class Stream>
    result<wait_result> write_all(Stream& stream, byte_view data, rom::time_point deadline) {
        return guarded([&](auto handler) { boost::asio::async_write(stream, boost::asio::buffer(data.data(), data.size()), handler); },
                       stream, deadline);
    }

    // What `stream` has, waiting for at least one byte until `deadline`.
    template <class Stream>
    result<wait_result> read_some(Stream& stream, std::span<std::uint8_t> into, rom::time_point deadline) {
        return guarded([&](auto handler) { stream.async_read_some(boost::asio::buffer(into.data(), into.size()), handler); },
                       stream, deadline);
    }

    // An interruptible pause.
    result<void> sleep_until(rom::time_point until) {
        if (auto f = interruption()) return *f;
        boost::asio::steady_timer t(io_, until);
        run([&](auto handler) { t.async_wait([handler](const boost::system::error_code& ec) { handler(ec, 0); }); },
            [&] { t.cancel(); }, until);
        if (auto f = interruption()) return *f;
        return {};
    }

private:
    // `start` under the deadline, cancelling `stream` to end it early; a signal before or during
    // the wait is the failure.
    template <class Start, class Stream>
    result<wait_result> guarded(Start&& start, Stream& stream, rom::time_point deadline) {
        if (auto f = interruption()) return *f;
        auto r = run(std::forward<Start>(start),
                     [&] {
                         boost::system::error_code ignored;
                         stream.cancel(ignored);
                     },
                     deadline);
        if (auto f = interruption()) return *f;
        return r;
    }

    boost::asio::io_context io_{1};
    boost::asio::steady_timer timer_;
    boost::asio::signal_set signals_;
    std::optional<int> signal_;
};

}  // namespace otaflash::serial::detail
