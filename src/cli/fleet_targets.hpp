#pragma once
// The devices of a push, from what the user gave: TARGET arguments, the entries of a --targets
// file, and what --discover found. Each gets its label, ports and password here; nothing is
// contacted. Pure: the environment and password files are read through what is passed in.

#include "cli/push_engine.hpp"
#include "cli/secrets.hpp"
#include "cli/targets.hpp"

#include <otaflash/proto/mdns/dns_sd.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::cli {

struct device_sources {
    std::vector<std::string> arguments;                // TARGET arguments
    std::optional<std::uint16_t> port;                 // --port: for targets that name none
    std::vector<fleet_target> listed;                  // from --targets FILE
    std::string listed_from;                           // FILE, for messages
    std::vector<mdns::service_instance> discovered;    // what matched --discover
};

using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

// Labels must differ (they name devices in the summary). A device's password_env must be set and
// its password_file readable, else the run is refused before it starts; a device without either
// uses `fallback` (--password-file, OTAFLASH_PASSWORD, ...).
result<std::vector<push_device>> fleet_devices(const device_sources& sources, const resolved_password& fallback,
                                               const password_readers& read, const env_lookup& env);

// Devices whose targets file says board=NAME are compared with what answered mDNS: the service
// at the device's address (on its port, when the target names one) or of its name.local. Another
// board, or none, refuses the device (errc::board_mismatch) before anything is sent. A device
// that did not answer is not refused: one warning each says its board was not checked.
std::vector<std::string> check_boards(std::vector<push_device>& devices,
                                      const std::vector<mdns::service_instance>& advertised);

}  // namespace otaflash::cli
