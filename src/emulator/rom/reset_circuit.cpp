#include "reset_circuit.hpp"

#include <utility>

namespace otaflash::emulator::rom {

bool reset_circuit::change(bool dtr, bool rts, time_point now) {
    // The chip sampled the strap at boot_at_ even if nobody polled since: keep what it saw.
    if (boot_at_ && now >= *boot_at_ && !sampled_) sampled_ = strap();
    const bool was_low = en_low();
    dtr_ = dtr;
    rts_ = rts;
    if (en_low()) {
        boot_at_.reset();
        sampled_.reset();
        return !was_low;
    }
    if (was_low) {
        boot_at_ = now + strap_delay;
        sampled_.reset();
    }
    return false;
}

std::optional<boot_mode> reset_circuit::poll(time_point now) {
    if (!boot_at_ || now < *boot_at_) return std::nullopt;
    boot_at_.reset();
    return std::exchange(sampled_, std::nullopt).value_or(strap());
}

}  // namespace otaflash::emulator::rom
