#pragma once
// What `serial` and `verify --port` share: the connection options (port, baud, reset before and
// after, attempts), the positional "IMAGE | OFFSET IMAGE …" list, opening the port, and the JSON
// and text for what the session learned.

#include "cli/app.hpp"

#include <otaflash/proto/rom/flasher.hpp>
#include <otaflash/result.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}

namespace otaflash::cli {

struct rom_connection_args {
    std::string port;
    std::uint32_t baud = 921600;
    std::string before = "default";
    std::string after = "hard-reset";
    std::string reset_sequence;
    int connect_attempts = 7;
    std::string flash_size;
    std::string stub = "auto";
};

// Adds -p/--port, -b/--baud (OTAFLASH_BAUD), --before, --after, --reset-sequence,
// --connect-attempts, --flash-size and --stub (OTAFLASH_STUB) to `sub`, in the "Connection" group. `port_required`: the
// command needs a port, which may come from OTAFLASH_PORT; otherwise --port is an explicit choice
// (the environment does not turn it on). Returns the --port option.
CLI::Option* add_rom_connection_options(CLI::App* sub, rom_connection_args& args, bool port_required);

// Validates the options and fills the session part of a request (everything but the regions).
result<void> fill_session_request(const rom_connection_args& args, const chip_info* expected_chip,
                                  rom::session_request& request);

// "IMAGE" (written at 0x0) or "OFFSET IMAGE [OFFSET IMAGE …]": reads every file.
result<std::vector<rom::region_input>> read_regions(const std::vector<std::string>& items);

// Says what a port kind cannot do (a raw socket: no reset, no baud change), as warnings.
void warn_about_port(reporter& out, const rom_connection_args& args);

// The port as the session will use it (opened at 115200: SYNC always happens there).
result<std::unique_ptr<rom::port>> open_rom_port(const rom_connection_args& args);

// "port", "chip", "baud", "flash_size", "connect", "after", "warnings"-free session facts.
nlohmann::json session_json(const rom::session_report& report);
// "ESP32 on /dev/ttyUSB0 (magic 0x00f01d83), 921600 baud" — empty before the chip was known.
std::string session_line(const rom::session_report& report);

// "12.3 s" / "850 ms".
std::string duration_text(rom::duration d);

}  // namespace otaflash::cli
