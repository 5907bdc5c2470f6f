#pragma once
// Pushes, from resolved plans to outcomes: one device (`otaflash push FILE TARGET`, `otaflash
// espota`) or a fleet. Resolves every target first (name.local through mDNS), refuses two targets
// that are one device, opens a connect-back listener per local address (more where devices share
// an address: connect_back_pool), then runs the sessions on one event loop, at most `jobs` at a
// time, each through the addresses of its name until one answers, retrying what a retry can help;
// SIGINT/SIGTERM reset every open connection and end the run.

#include "cli/secrets.hpp"

#include <otaflash/net/connect_back_pool.hpp>
#include <otaflash/net/mdns.hpp>
#include <otaflash/net/target.hpp>
#include <otaflash/proto/espota/session.hpp>
#include <otaflash/util/bytes.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::cli {

class app_context;

// The defaults tried, from one socket, when the target names no port: esp32, esp8266, rp2040.
inline const std::vector<std::uint16_t> default_device_ports{3232, 8266, 2040};

// What every device of a run shares.
struct push_settings {
    std::string host_ip;                      // empty: the source address of the route to each device
    net::host_port_choice host_ports;         // default: the kernel picks each listener's port
    std::string image_path;
    bytes image;                              // one copy: every session sends from it
    nlohmann::json image_facts = nlohmann::json::object();  // preflight facts for the JSON document
    espota::command cmd = espota::command::flash;
    espota::timeouts times;
    unsigned window = espota::default_window;
    bool md5_only = false;
    net::mdns_options mdns;                   // how name.local targets are resolved
};

// One device of a run.
struct push_device {
    std::string label;                        // prefixes its log and progress lines (empty: a single push)
    std::string target_text;                  // as the user wrote it
    net::target target;
    std::vector<std::uint16_t> ports;         // one pinned port, or the defaults
    resolved_password password;
    std::string expected_board;               // board= of a targets file: what it must advertise
    std::optional<failure> refused;           // decided before the run (e.g. its chip): never contacted
    nlohmann::json facts = nlohmann::json::object();  // board, chip, how it was found: in its JSON
};

struct run_policy {
    unsigned jobs = 1;                        // sessions at once
    unsigned retries = 0;                     // further attempts for a device whose failure may pass
    std::chrono::milliseconds retry_delay{2000};
    bool fail_fast = false;                   // the first failed device cancels the rest
    bool may_prompt = false;                  // ask a person for a missing password (single pushes)
};

enum class device_status { updated, failed, cancelled, skipped };
std::string_view status_name(device_status s) noexcept;

struct device_outcome {
    device_status status = device_status::failed;
    std::optional<failure> error;             // empty: the device confirmed with OK
    std::vector<std::string> warnings;
    std::string summary;                      // one line for people: "ADDRESS:PORT: what happened"
    nlohmann::json result;                    // what a single push reports about its device
    unsigned attempts = 0;
    std::vector<std::string> earlier_errors;  // codes of the attempts before the last
    long long start_ms = 0;                   // first attempt, from the start of the run
    long long end_ms = 0;
};

struct run_outcome {
    std::optional<failure> refused;           // the run started no device (a conflict, a listener)
    std::optional<failure> interrupted;       // SIGINT or SIGTERM came
    std::vector<device_outcome> devices;      // in the order given
    long long duration_ms = 0;
};

// Whether a retry can help after `code`: the device was unreachable, the transfer broke, or the
// result went unconfirmed. Never after authentication, a refusal, bad input or a local problem.
bool worth_retrying(errc code) noexcept;

// Devices at one address run at once, each session on a listener of its own (a listener tells
// connections apart by their source address); two targets at one address whose ports may meet
// are one device twice: refused with errc::target_invalid, naming both.
struct device_address {
    std::string label;
    std::string address;                      // numeric; empty when it did not resolve
    std::vector<std::uint16_t> ports;
};
result<void> check_addresses(const std::vector<device_address>& devices);

// `on_finished` runs (from the loop) as each device is done, e.g. to print its line at once.
run_outcome run_pushes(app_context& ctx, const push_settings& settings, std::vector<push_device> devices,
                       const run_policy& policy, const std::function<void(const device_outcome&)>& on_finished);

// What was sent, for the JSON documents (and so the audit log): path, size, md5, sha256, command,
// and the preflight's facts.
nlohmann::json image_json(const push_settings& settings);

// A single push: its outcome in the shape `push` and `espota` have always reported.
struct push_outcome {
    std::optional<failure> error;             // empty: the device confirmed with OK
    std::vector<std::string> warnings;
    std::string summary;                      // one line for people
    nlohmann::json result;                    // the JSON document's "result"
};

push_outcome run_push(app_context& ctx, const push_settings& settings, push_device device, run_policy policy);

}  // namespace otaflash::cli
