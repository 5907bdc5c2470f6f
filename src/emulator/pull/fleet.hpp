#pragma once
// A fleet of pulling devices from the command line: the options give one device, each
// `--devices count=N,key=value,...` group adds N devices that differ from it in those keys
// (setting_names). MACs count up from the group's `mac`, one per device; `%d` in `out` becomes the
// device's index in the fleet.

#include "emulator/pull/device.hpp"

#include <otaflash/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace otaflash::emulator::pull {

inline constexpr std::string_view setting_names =
    "count, kind, version, chip, flash, free, mac, sketch-md5, type, mode, fs-size, url, drop-after, attempts, out, "
    "user";

// Sets one key of `device` ("flash" takes 4MB/512KB or bytes). Fails (usage_error) naming the key.
result<void> apply_setting(device_settings& device, const std::string& key, const std::string& value);

// The devices of one group spec on top of `base`, the first with index `first_index`.
result<std::vector<device_settings>> expand_group(const device_settings& base, const std::string& spec,
                                                   unsigned first_index);

// `count` devices like `base`, MACs counting up from base's.
std::vector<device_settings> repeat(const device_settings& base, unsigned count, unsigned first_index);

// "24:0A:C4:00:00:01" + n (in the low three bytes).
std::string mac_plus(const std::string& mac, unsigned n);

}  // namespace otaflash::emulator::pull
