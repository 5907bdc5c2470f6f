#pragma once
// One push, from a resolved plan to an outcome: shared by `otaflash push` and `otaflash espota`.
// Resolves the target, picks the local address the device will dial, opens the connect-back
// listener, runs the session on one event loop (SIGINT/SIGTERM reset the connection and end it),
// and describes what happened for text and JSON output.

#include "cli/secrets.hpp"

#include <otaflash/net/target.hpp>
#include <otaflash/proto/espota/session.hpp>
#include <otaflash/util/bytes.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace otaflash::cli {

class app_context;

// The defaults tried, from one socket, when the target names no port: esp32, esp8266, rp2040.
inline const std::vector<std::uint16_t> default_device_ports{3232, 8266, 2040};

struct push_plan {
    std::string target_text;                  // as the user wrote it
    net::target target;
    std::vector<std::uint16_t> ports;         // one pinned port, or the defaults
    std::string host_ip;                      // empty: the source address of the route to the device
    std::optional<std::uint16_t> host_port;   // empty: a random port
    bool espota_port_range = false;           // random port in 10000..60000, as espota.py picks it
    std::string image_path;
    bytes image;
    espota::command cmd = espota::command::flash;
    espota::timeouts times;
    unsigned window = espota::default_window;
    resolved_password password;
    bool md5_only = false;
    nlohmann::json image_facts = nlohmann::json::object();  // preflight facts for the JSON document
};

struct push_outcome {
    std::optional<failure> error;             // empty: the device confirmed with OK
    std::vector<std::string> warnings;
    std::string summary;                      // one line for people
    nlohmann::json result;                    // the JSON document's "result"
};

push_outcome run_push(app_context& ctx, push_plan plan);

}  // namespace otaflash::cli
