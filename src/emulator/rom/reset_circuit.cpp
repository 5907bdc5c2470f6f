#include "reset_circuit.hpp"

namespace otaflash::emulator::rom {

bool reset_circuit::change(bool dtr, bool rts, time_point now) {
    const bool was_low = en_low();
    dtr_ = dtr;
    rts_ = rts;
    if (en_low()) {
        window_end_.reset();
        download_seen_.reset();
        return !was_low;
    }
    if (was_low) window_end_ = now + strap_window;
    if (window_end_ && now < *window_end_ && gpio0_low() && !download_seen_) download_seen_ = now;
    return false;
}

std::optional<time_point> reset_circuit::boot_due() const noexcept {
    if (!window_end_) return std::nullopt;
    return download_seen_ ? download_seen_ : window_end_;
}

std::optional<boot_mode> reset_circuit::poll(time_point now) {
    const auto due = boot_due();
    if (!due || now < *due) return std::nullopt;
    const boot_mode mode = download_seen_ ? boot_mode::download : boot_mode::app;
    window_end_.reset();
    download_seen_.reset();
    return mode;
}

}  // namespace otaflash::emulator::rom
