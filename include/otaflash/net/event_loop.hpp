#pragma once
// The one event loop of a run (an Asio io_context behind a pimpl, single-threaded). Sessions,
// listeners and emulated devices all run on it; `run()` returns when none has work left.

#include <functional>
#include <memory>

namespace otaflash::net {

class event_loop {
public:
    event_loop();
    ~event_loop();
    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    void run();

    // Calls `handler(signal_number)` on SIGINT or SIGTERM (again on each later one) instead of
    // ending the process, so sessions can close their sockets first. Keeps the loop busy until
    // stop_signals(), which the owner calls once its work is done.
    void on_signals(std::function<void(int)> handler);
    void stop_signals();

    struct impl;
    impl& native() noexcept { return *impl_; }

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace otaflash::net
