#pragma once
// Getting the ROM's attention: reset into download mode (when the port has modem lines), SYNC
// until it answers, drain its duplicate replies; and when it never answers, say why from what the
// line carried instead (boot log, application output, unreadable bytes, silence).

#include <otaflash/proto/rom/boot_log.hpp>
#include <otaflash/proto/rom/loader.hpp>
#include <otaflash/proto/rom/reset.hpp>

#include <string>
#include <vector>

namespace otaflash::rom {

struct connect_options {
    std::vector<reset_sequence> strategies;  // tried in turn, one per attempt; empty: SYNC only
    int attempts = 7;                        // reset + SYNC rounds (esptool's default)
    int syncs_per_attempt = 5;
    // The rates the rounds alternate between: 115200 first; the session's target rate as well
    // finds a chip that an earlier session left in the bootloader at that rate (--after no-reset).
    std::vector<std::uint32_t> rates{115200};
};

struct connection {
    int attempts = 0;          // rounds used
    std::string reset = "none";  // strategy before the SYNC that worked
    std::uint32_t baud = 115200;   // the rate the SYNC worked at
    bool modem_lines = true;   // false: the port has no DTR/RTS, so nothing was reset
    std::uint32_t sync_value = 0;  // non-zero from a ROM, 0 from esptool's flasher stub
    int sync_replies = 0;
};

result<connection> connect(loader& rom, const connect_options& options);

// The failure to report when SYNC never got an answer, from what the line carried.
failure no_sync_failure(const boot_evidence& evidence, const std::string& port_name, bool modem_lines, int attempts);

}  // namespace otaflash::rom
