#pragma once
// The port implementations behind serial::open_port (one per file).

#include <otaflash/serial/port.hpp>

namespace otaflash::serial::detail {

result<std::unique_ptr<rom::port>> open_tty(const std::string& path, const port_options& options, log_sink& log);
result<std::unique_ptr<rom::port>> open_tcp(const std::string& host, const std::string& service, bool rfc2217,
                                            const std::string& spec, const port_options& options, log_sink& log);

}  // namespace otaflash::serial::detail
