#pragma once
// Faults the emulated ROM injects on request (`--fault`, ROM_DEVICE_CONTRACT.md "Faults").

#include <otaflash/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::emulator::rom {

struct fault_set {
    bool no_sync = false;                             // never answers SYNC
    bool boot_noise = false;                          // boot log and junk text before the first SYNC reply
    bool garbage = false;                             // junk bytes between replies
    std::vector<std::uint32_t> status_error_blocks;   // data block seq N always fails with 0x08
    std::vector<std::uint32_t> status_error_once_blocks;  // ... only the first time it arrives
    std::optional<std::uint32_t> silent_after_block;  // nothing at all after answering block N
    bool slow_flash = false;                          // erase and write 10x slower
    std::vector<std::uint32_t> flip_bytes;            // flash offsets that read back inverted after a write
};

// Adds one `--fault` value to `faults`; a clear failure (usage_error) names the bad value.
result<void> add_fault(std::string_view spec, fault_set& faults);

// The accepted spellings, for --help and error hints.
std::string_view fault_names() noexcept;

}  // namespace otaflash::emulator::rom
