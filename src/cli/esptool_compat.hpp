#pragma once
// esptool command lines, pasted from its documentation or a factory script, run as they are:
// `esptool.py -p PORT -b 460800 --before default_reset write_flash -z 0x1000 boot.bin` becomes
// `otaflash serial -p PORT -b 460800 --before default_reset --compress 0x1000 boot.bin`. Only
// command lines that name one of esptool's commands (write_flash, verify_flash, either spelling)
// are rewritten: otaflash's own command lines pass through untouched. The values of --before and
// --after in esptool's spelling are accepted by the options themselves (rom_connection.cpp).

#include <otaflash/error.hpp>
#include <otaflash/result.hpp>

#include <string>
#include <vector>

namespace otaflash::cli {

// `args` without the program name. An esptool option otaflash cannot honour (a --flash-mode that
// would rewrite an image header, --erase-all, ...) is a usage error naming it.
result<std::vector<std::string>> from_esptool(std::vector<std::string> args);

}  // namespace otaflash::cli
