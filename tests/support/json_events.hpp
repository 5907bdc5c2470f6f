#pragma once
// Reading an emulator's JSON Lines events (one object per line on its standard output).

#include "subprocess.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::test {

// The next event whose "event" is `name`, read from `proc` within `timeout`; lines that are not
// JSON objects are skipped, and every event read (that one included) is appended to `seen` when
// given. nullopt when none came in time or the process ended.
std::optional<nlohmann::json> next_json_event(background_process& proc, const std::string& name,
                                              std::chrono::milliseconds timeout,
                                              std::vector<nlohmann::json>* seen = nullptr);

}  // namespace otaflash::test
