#pragma once
// Reset strategies as data (../shared/protocols/rom-bootloader.md §5): sequences of DTR/RTS changes
// and waits, run against a port. The built-in ones follow esptool's timings; a custom one comes
// from a string in esptool's syntax, e.g. "D0|R1|W0.1|D1|R0|W0.05|D0":
//   D<0|1>  set DTR (RTS unchanged)       R<0|1>  set RTS (DTR unchanged)
//   U<0|1>,<0|1>  set DTR and RTS at once  W<seconds>  wait
// Lines are "asserted" = 1 = the chip's pin pulled low: RTS drives EN, DTR drives GPIO0 (BOOT).

#include <otaflash/proto/rom/port.hpp>
#include <otaflash/result.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::rom {

struct reset_step {
    enum class kind { dtr, rts, both, wait };
    kind what = kind::wait;
    bool dtr = false;
    bool rts = false;
    std::chrono::microseconds wait{0};

    friend bool operator==(const reset_step&, const reset_step&) = default;
};

struct reset_sequence {
    std::string name;
    std::vector<reset_step> steps;
};

// esptool's reset_delay: 0.05 s, and 0.55 s on alternate attempts for slow boards.
inline constexpr std::chrono::milliseconds reset_delay_short{50};
inline constexpr std::chrono::milliseconds reset_delay_long{550};

// EN low, then EN released while GPIO0 is held low, then GPIO0 released: one line at a time.
reset_sequence classic_reset(std::chrono::milliseconds delay);
// The same through both-lines-at-once changes, so no intermediate state resets the chip.
reset_sequence unix_tight_reset(std::chrono::milliseconds delay);
// The chip's own USB-Serial/JTAG peripheral (VID 0x303A PID 0x1001) decodes the lines itself.
reset_sequence usb_jtag_serial_reset();
// After flashing: pulse EN only, so the application boots. USB ports hold the pulse longer.
reset_sequence hard_reset(bool usb = false);

// The sequence in esptool's string syntax (round-trips with parse_reset_sequence).
std::string to_string(const reset_sequence& seq);
// Fails with a usage error naming the bad token.
result<reset_sequence> parse_reset_sequence(std::string_view text);

// What `--before` asks for before connecting.
enum class before_reset { default_reset, usb_reset, no_reset };

// The strategies tried in turn, one per connection attempt (esptool: UnixTight, UnixTight with the
// long delay, Classic, Classic long; the USB sequence alone for usb-reset; nothing for no-reset).
std::vector<reset_sequence> connect_strategies(before_reset before);

// Runs the steps on `p`, keeping track of both lines. Returns false when the port has no modem
// lines (so the reset did nothing), a failure only when the port failed or a signal came.
result<bool> run_reset(port& p, const reset_sequence& seq);

}  // namespace otaflash::rom
