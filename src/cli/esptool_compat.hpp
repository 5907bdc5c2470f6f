#pragma once
// esptool command lines, pasted from its documentation or a factory script, run as they are:
// `esptool.py -p PORT -b 460800 --before default_reset write_flash -z 0x1000 boot.bin` becomes
// `otaflash serial -p PORT -b 460800 --before default_reset --compress 0x1000 boot.bin`. Only
// command lines that name one of esptool's commands (write_flash, verify_flash, either spelling)
// are rewritten: otaflash's own command lines pass through untouched. The values of --before and
// --after in esptool's spelling are accepted by the options themselves (rom_connection.cpp).

#include <otaflash/error.hpp>
#include <otaflash/result.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::cli {

// `args` without the program name; the command is the first word that is neither an option nor
// the value of one (`global_takes_value` says which of otaflash's global options take one). An
// esptool option otaflash cannot honour (a --flash-mode that would rewrite an image header,
// --erase-all, ...) is a usage error naming it.
result<std::vector<std::string>> from_esptool(std::vector<std::string> args,
                                              const std::function<bool(std::string_view)>& global_takes_value);

}  // namespace otaflash::cli
