#pragma once
// `otaflash verify --port PORT [OFFSET] IMAGE …`: compare a device's flash with files by MD5.

#include "cli/commands/rom_connection.hpp"

namespace otaflash::cli {

int run_verify_port(app_context& ctx, const rom_connection_args& connection, const std::string& chip_name,
                    const std::vector<std::string>& items);

}  // namespace otaflash::cli
