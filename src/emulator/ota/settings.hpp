#pragma once
// What describes one emulated device as a user writes it: the command line's device options, and
// the keys of a --devices SPEC, which are the same names without the dashes (README "Emulated OTA
// device"). `resolve` checks them, reads the password, and gives the device's configuration.

#include "emulator/ota/device.hpp"

#include <otaflash/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::emulator::ota {

inline constexpr const char* default_password_env = "OTAFLASH_DEVICE_PASSWORD";

// Where the device's password comes from. Secrets are never given on the command line itself.
struct password_source {
    enum class origin : std::uint8_t {
        environment,  // the variable `name` (the default one may be unset: then no password)
        file,         // the first line of the file `name`, stored as setPassword() does
        hash_file,    // the first line of the file `name`, the stored hash verbatim
        none,         // no password, whatever the environment holds
    };
    origin from = origin::environment;
    std::string name = default_password_env;
    bool named_by_user = false;  // an environment variable the user chose must be set
};

struct device_settings {
    std::string kind = "esp8266";
    std::string bind = "127.0.0.1";
    std::optional<std::uint16_t> port;  // none: the kind's default port
    password_source password;
    std::string stored_hash;            // "", "md5" or "sha256"
    std::string out;                    // a pattern: %d is the device's index in the fleet
    std::string hostname;               // a pattern: %d is the device's index in the fleet
    std::string board;
    std::uint64_t flash_size = 1u << 20;
    unsigned loop_ms = 5;
    std::uint64_t flash_rate = 0;
    unsigned ack_latency_ms = 0;
    std::uint32_t recv_buffer = 0;
    std::vector<std::string> faults;    // --fault values; "none" clears the list
    double time_scale = 1.0;
};

// Sets one setting by its option name without dashes: kind=esp32, flash-size=4096, fault=silent,
// password-env=VAR, no-password (no value) ... `fault` adds to the list.
result<void> apply_setting(device_settings& settings, std::string_view key, std::string_view value);

// The names apply_setting() knows, for error hints and help.
std::string_view setting_names() noexcept;

// Checks everything and reads the password. `hostname` and `out` are taken as they are (the fleet
// planner expands their patterns first).
result<device_config> resolve(const device_settings& settings);

}  // namespace otaflash::emulator::ota
