#include "net/loop_detail.hpp"

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

}  // namespace otaflash::net
