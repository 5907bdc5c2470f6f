#pragma once
// A mixed fleet in one process, as the user describes it: groups of devices, each a SPEC such as
// "count=10,kind=esp32,fault=no-space,hostname=esp-%d" on top of the command line's device
// options (README "Emulated OTA device", "Fleets"). The planner gives every device its own port
// or address, hostname and output file before anything is bound.

#include "emulator/ota/device.hpp"
#include "emulator/ota/settings.hpp"

#include <otaflash/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otaflash::emulator::ota {

enum class spread_mode : std::uint8_t {
    port,     // one address, consecutive ports
    address,  // consecutive IPv4 addresses (127.0.0.1, 127.0.0.2, ...), each on its kind's port
};

struct device_group {
    device_settings settings;
    unsigned count = 1;
    std::string origin;  // where the group was described ("--devices 'count=2'"), for error messages
};

using spec_items = std::vector<std::pair<std::string, std::string>>;

// "count=10,kind=esp32,fault=drop-after=4096" → {count,10}, {kind,esp32}, {fault,drop-after=4096}:
// commas separate items, the first '=' ends the key, a backslash takes the next character as it
// is ("fault=end-error=Flash\, then more"). A key without '=' has an empty value. An empty SPEC
// has no items (one device with the defaults).
result<spec_items> split_spec(std::string_view spec);

// The SPEC as error messages may show it: the value of a (refused) password= item is hidden.
std::string shown_spec(std::string_view spec);

// `defaults` with the SPEC's settings on top (errors do not repeat the SPEC: the caller says where
// it came from). A SPEC that names any fault gives its group exactly
// those faults (fault=none: no faults), not the defaults' as well.
result<device_group> parse_group(std::string_view spec, const device_settings& defaults);

// The SPECs in a fleet file: one per line; blank lines and lines starting with '#' are skipped.
struct fleet_line {
    unsigned number = 0;  // from 1
    std::string spec;
};
std::vector<fleet_line> fleet_file_specs(std::string_view text);

// Every device of every group, in order. Each gets its own endpoint: with `port`, the next port
// from its group's (or kind's) port not yet taken on its address; with `address`, the next IPv4
// address from its group's bind address not yet taken. Port 0 stays 0 (the system picks). In
// hostname and out patterns %d becomes the device's index in the fleet (from 0) and %% a '%'.
// Devices that would still write the same out file get ".N" appended (N: their index).
// Explicit hostnames must be valid DNS labels and unique.
result<std::vector<device_config>> plan_fleet(const std::vector<device_group>& groups, spread_mode spread);

}  // namespace otaflash::emulator::ota
