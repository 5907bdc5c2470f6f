#pragma once
// The command line of otaflash-rom-device (ROM_DEVICE_CONTRACT.md "Command line"), parsed without
// a CLI framework: emulators use only the core and Asio.

#include "device.hpp"

#include <otaflash/log.hpp>
#include <otaflash/result.hpp>

#include <string>

namespace otaflash::emulator::rom {

struct command_line {
    device_options device;
    log_level log_threshold = log_level::info;
    bool show_help = false;
    bool show_version = false;
};

// Reads --load (the initial flash) too, so a missing file is an input error here.
result<command_line> parse_options(int argc, const char* const* argv);
std::string help_text();

}  // namespace otaflash::emulator::rom
