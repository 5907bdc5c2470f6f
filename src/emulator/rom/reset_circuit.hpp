#pragma once
// The auto-reset circuit of Espressif dev boards (rom-bootloader.md §5): RTS drives EN and DTR
// drives the boot strap (GPIO0) through two transistors, so only the mixed states act:
// RTS asserted alone holds EN low, DTR asserted alone pulls GPIO0 low. When EN rises the chip
// samples GPIO0 a little later (the EN line's RC delay), and boots into the download loader if it
// is low. Pure: the driver passes the time and arms a timer for boot_due().

#include "rom_model.hpp"

#include <chrono>
#include <optional>

namespace otaflash::emulator::rom {

class reset_circuit {
public:
    // Time from EN rising to the strap being sampled. esptool's classic sequence sets DTR and
    // then RTS in two steps microseconds apart and holds GPIO0 low for 50 ms afterwards.
    static constexpr std::chrono::milliseconds strap_delay{5};

    // Returns true when this change pulled EN low (the chip stops until it rises again).
    bool set_dtr(bool asserted, time_point now) { return change(asserted, rts_, now); }
    bool set_rts(bool asserted, time_point now) { return change(dtr_, asserted, now); }

    std::optional<time_point> boot_due() const noexcept { return boot_at_; }
    // Once the strap delay has passed: which way the chip boots.
    std::optional<boot_mode> poll(time_point now);
    // What the chip would boot into now (for a reboot the firmware triggers itself).
    boot_mode strap() const noexcept { return gpio0_low() ? boot_mode::download : boot_mode::app; }

private:
    bool en_low() const noexcept { return rts_ && !dtr_; }
    bool gpio0_low() const noexcept { return dtr_ && !rts_; }
    bool change(bool dtr, bool rts, time_point now);

    bool dtr_ = false;
    bool rts_ = false;
    std::optional<time_point> boot_at_;
    std::optional<boot_mode> sampled_;
};

}  // namespace otaflash::emulator::rom
