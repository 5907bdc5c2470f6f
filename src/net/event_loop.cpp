#include "net/loop_detail.hpp"

#include <otaflash/io/interrupt.hpp>

#include <csignal>

namespace otaflash::net {

event_loop::event_loop() : impl_(std::make_unique<impl>()) {}
event_loop::~event_loop() = default;

void event_loop::run() {
    impl_->io.restart();
    impl_->io.run();
}

void event_loop::impl::wait_for_signal() {
    signals->async_wait([this](const boost::system::error_code& ec, int number) {
        if (ec) return;  // stopped
        io::latch_interrupt(number);
        if (on_signal) on_signal(number);
        if (signals) wait_for_signal();
    });
}

void event_loop::on_signals(std::function<void(int)> handler) {
    impl_->on_signal = std::move(handler);
    if (!impl_->signals) {
        impl_->signals.emplace(impl_->io, SIGINT, SIGTERM);
        impl_->wait_for_signal();
    }
}

void event_loop::stop_signals() {
    if (!impl_->signals) return;
    boost::system::error_code ignored;
    impl_->signals->cancel(ignored);
    impl_->signals->clear(ignored);
    impl_->signals.reset();
}

event_loop::timer_id event_loop::call_after(std::chrono::milliseconds delay, std::function<void()> fn) {
    const timer_id id = impl_->next_timer++;
    auto& timer = *impl_->timers.emplace(id, std::make_unique<boost::asio::steady_timer>(impl_->io, delay)).first->second;
    timer.async_wait([this, id, fn = std::move(fn)](const boost::system::error_code& ec) {
        // The timer object is gone once cancelled: only the id is looked at here.
        if (ec || impl_->timers.erase(id) == 0) return;
        fn();
    });
    return id;
}

void event_loop::cancel_timer(timer_id id) {
    auto it = impl_->timers.find(id);
    if (it == impl_->timers.end()) return;
    it->second->cancel();
    impl_->timers.erase(it);
}

}  // namespace otaflash::net
