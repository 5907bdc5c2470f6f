#pragma once
// Opening the line a ROM bootloader talks on, as a rom::port: a serial device (raw termios,
// exclusive, DTR/RTS through TIOCMSET), "rfc2217://host:port" (a remote serial port whose baud
// rate and modem lines travel as telnet COM-PORT-OPTION commands) or "socket://host:port" (raw
// TCP: no baud rate, no modem lines). Every wait has a deadline; SIGINT/SIGTERM end the current
// wait with errc::interrupted_sigint / interrupted_sigterm and every later one at once.

#include <otaflash/log.hpp>
#include <otaflash/proto/rom/port.hpp>
#include <otaflash/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace otaflash::serial {

struct port_options {
    std::uint32_t baud = 115200;
    bool exclusive = true;      // TIOCEXCL + flock: a second program cannot open the port meanwhile
    bool catch_signals = true;  // turn SIGINT/SIGTERM into errc::interrupted_* failures
};

enum class port_kind { serial, rfc2217, socket };

// What a port spec names, by its scheme: a plain path is a serial device.
port_kind kind_of(std::string_view spec) noexcept;

result<std::unique_ptr<rom::port>> open_port(const std::string& spec, const port_options& options, log_sink& log);

}  // namespace otaflash::serial
