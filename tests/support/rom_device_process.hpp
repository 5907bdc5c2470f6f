#pragma once
// otaflash-rom-device as a child process for integration tests: started with the given options,
// its ready event read, its JSON Lines events read on demand, stopped by SIGTERM (when it dumps
// its flash to --flash-file) at the latest when the object goes.

#include "subprocess.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::test {

class rom_device_process {
public:
    // Throws std::runtime_error, with the emulator's stderr, when no ready event comes within 10 s.
    explicit rom_device_process(std::vector<std::string> options);

    // The next event; nullopt at EOF or when `timeout` passes.
    std::optional<nlohmann::json> next_event(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // The next event named `name`, skipping others.
    std::optional<nlohmann::json> wait_event(const std::string& name,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(5));
    process_result stop() { return proc_.stop(); }

    nlohmann::json ready;  // the ready event: chip, pty, rfc2217 (port or null), flash_size, boot
    std::string pty;

private:
    background_process proc_;
};

}  // namespace otaflash::test
