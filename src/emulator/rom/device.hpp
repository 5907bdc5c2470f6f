#pragma once
// Runs the ROM model on a pseudo-terminal (and optionally an RFC 2217 TCP port on 127.0.0.1):
// the Asio driver that applies the model's timing with timers. Asio stays inside device.cpp.

#include "rom_model.hpp"

#include <otaflash/log.hpp>
#include <otaflash/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace otaflash::emulator::rom {

struct device_options {
    rom_config rom;
    bytes initial_flash;                     // its size is the flash size
    boot_mode boot = boot_mode::download;    // what the straps select on the pty
    std::string flash_file;                  // where the flash is dumped ("" = nowhere)
    std::optional<std::uint16_t> rfc2217_port;  // 0 = any free port
};

// What the device tells its owner (main prints these as JSON Lines).
class device_observer {
public:
    virtual ~device_observer() = default;
    virtual void ready(const std::string& pty_path, std::optional<std::uint16_t> rfc2217_port) = 0;
    virtual void event(const rom_event& e) = 0;
    virtual void dump_failed(const failure& f) = 0;
};

class device {
public:
    device(device_options options, device_observer& observer, log_sink& log);
    ~device();
    device(const device&) = delete;
    device& operator=(const device&) = delete;

    // Opens the pty and the listener; then run() serves until SIGINT/SIGTERM or stop().
    result<void> open();
    // Returns after a signal or stop(); the flash has been dumped.
    void run();
    // From any thread: ends run() soon.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace otaflash::emulator::rom
