#pragma once
// The auto-reset circuit of Espressif dev boards (rom-bootloader.md §5): RTS drives EN and DTR
// drives the boot strap (GPIO0) through two transistors, so only the mixed states act:
// RTS asserted alone holds EN low, DTR asserted alone pulls GPIO0 low. Pure: the driver passes
// the time and arms a timer for boot_due().
//
// On a board the ROM samples GPIO0 a few milliseconds after EN rises. Here the strap counts as
// low if GPIO0 is low at any moment within `strap_window` after EN rises: line changes that
// travel over RFC 2217 arrive one round trip apart (pyserial waits about 50 ms for each one to be
// acknowledged), which is why a real board behind a network serial server needs a server that
// replays the reset sequence locally (esptool's esp_rfc2217_server). This model is that pair.

#include "rom_model.hpp"

#include <chrono>
#include <optional>

namespace otaflash::emulator::rom {

class reset_circuit {
public:
    static constexpr std::chrono::milliseconds strap_window{100};

    // Returns true when this change pulled EN low (the chip stops until it rises again).
    bool set_dtr(bool asserted, time_point now) { return change(asserted, rts_, now); }
    bool set_rts(bool asserted, time_point now) { return change(dtr_, asserted, now); }

    // When poll() will have a boot to report.
    std::optional<time_point> boot_due() const noexcept;
    // The boot the chip makes, once it is decided: download as soon as GPIO0 is seen low in the
    // window after EN rose, the application when the window closes without it.
    std::optional<boot_mode> poll(time_point now);
    // What the chip would boot into now (for a reboot the firmware triggers itself).
    boot_mode strap() const noexcept { return gpio0_low() ? boot_mode::download : boot_mode::app; }

private:
    bool en_low() const noexcept { return rts_ && !dtr_; }
    bool gpio0_low() const noexcept { return dtr_ && !rts_; }
    bool change(bool dtr, bool rts, time_point now);

    bool dtr_ = false;
    bool rts_ = false;
    std::optional<time_point> window_end_;     // EN rose; the strap is being watched until then
    std::optional<time_point> download_seen_;  // GPIO0 was low inside the window, at this time
};

}  // namespace otaflash::emulator::rom
