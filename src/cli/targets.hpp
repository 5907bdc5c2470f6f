#pragma once
// `push --targets FILE`: the devices of a fleet run, one per line or as a JSON inventory.
//
// Text: one device per line, `TARGET [key=value]...`, '#' starts a comment:
//     10.0.4.17:8266  label=kitchen  password_env=KITCHEN_OTA_PW  board=d1_mini
// JSON: an array (or {"devices": [...]}) of objects with "host" (required), "port", "label",
//     "password_env", "password_file", "chip", "board".

#include <otaflash/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace otaflash::cli {

struct fleet_target {
    std::string target;         // "host", "host:port", "[v6]:port": parsed by the push engine
    std::string label;          // shown in logs and the summary; defaults to `target`
    std::string password_env;   // name of an environment variable holding this device's password
    std::string password_file;  // or a file whose first line is the password
    std::string chip;           // expected chip (preflight compares with the image)
    std::string board;          // the board, as the user knows it: shown in the device's JSON
    int line = 0;               // where it came from, for error messages (0 for JSON)
};

result<std::vector<fleet_target>> parse_targets(std::string_view text, const std::string& source);

}  // namespace otaflash::cli
