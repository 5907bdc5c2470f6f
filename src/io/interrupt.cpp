#include <otaflash/io/interrupt.hpp>

#include <atomic>

namespace otaflash::io {
namespace {

std::atomic<int> first_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "the latch is set from a signal handler");

extern "C" void latch_handler(int signal_number) { latch_interrupt(signal_number); }

}  // namespace

void latch_interrupt(int signal_number) noexcept {
    int none = 0;
    first_signal.compare_exchange_strong(none, signal_number);
}

int latched_interrupt() noexcept { return first_signal.load(); }

failure interrupted_failure(int signal_number, std::string_view what_then, std::string hint) {
    const bool term = signal_number == SIGTERM;
    return make_failure(term ? errc::interrupted_sigterm : errc::interrupted_sigint,
                        std::string{"interrupted by "} + (term ? "SIGTERM" : "SIGINT") + std::string{what_then},
                        std::move(hint));
}

interrupt_catcher::interrupt_catcher() {
    struct sigaction catch_it{};
    catch_it.sa_handler = latch_handler;
    sigemptyset(&catch_it.sa_mask);
    catch_it.sa_flags = 0;  // no SA_RESTART: the blocking read returns
    ::sigaction(SIGINT, &catch_it, &saved_int_);
    ::sigaction(SIGTERM, &catch_it, &saved_term_);
}

interrupt_catcher::~interrupt_catcher() {
    ::sigaction(SIGINT, &saved_int_, nullptr);
    ::sigaction(SIGTERM, &saved_term_, nullptr);
}

}  // namespace otaflash::io
