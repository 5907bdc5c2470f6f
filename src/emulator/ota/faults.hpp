#pragma once
// Faults a user can ask the emulated device to show (--fault, repeatable): the failure modes a
// host must survive, each behaving the way a real device or network produces it.

#include <otaflash/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::emulator::ota {

struct fault_set {
    bool silent = false;        // never answers any datagram
    bool reject_auth = false;   // every well-formed AUTH gets "Authentication Failed"
    bool no_space = false;      // Update.begin() fails for lack of space
    bool no_connect = false;    // accepts (OK) but never dials back
    bool connect_idle = false;  // dials back, then neither reads nor closes
    bool bad_md5 = false;       // corrupts one received byte so Update.end() fails its MD5 check
    std::optional<std::uint64_t> drop_after;   // resets the connection after N image bytes
    std::optional<std::uint64_t> stall_after;  // stops reading and acking after N image bytes
    std::optional<std::string> end_error;      // sent verbatim instead of OK after the last byte

    bool any() const noexcept;
};

// Adds one --fault value ("silent", "drop-after=1000", "end-error=TEXT", ...) to `faults`.
result<void> add_fault(fault_set& faults, std::string_view spec);

// The names as the command line spells them, for help texts and error hints.
std::string_view fault_names() noexcept;

}  // namespace otaflash::emulator::ota
