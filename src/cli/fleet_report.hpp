#pragma once
// How a fleet run ends: the table people read, the totals for JSON, and the exit rule. Pure:
// device outcomes in, text and JSON out.
//
// Exit rule: 0 when every device was updated. When none was, and every device that failed failed
// in the same class, that class's code (devices cancelled or skipped by --fail-fast do not count):
// a fleet that is simply offline exits 5 like one device would. Otherwise 12 (some_targets_failed).

#include "cli/push_engine.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace otaflash::cli {

// Empty when every device was updated.
std::optional<failure> fleet_failure(const std::vector<device_outcome>& devices);

// One header line and one line per device: label, address, result, exit class, bytes, time,
// throughput, and what the device said.
std::vector<std::string> summary_table(const std::vector<device_outcome>& devices);

// "5 devices: 3 updated, 1 failed, 1 skipped in 4.2 s"
std::string totals_line(const std::vector<device_outcome>& devices, long long duration_ms);

nlohmann::json totals_json(const std::vector<device_outcome>& devices, long long duration_ms);

}  // namespace otaflash::cli
