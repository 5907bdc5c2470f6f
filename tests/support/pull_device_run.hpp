#pragma once
// otaflash-pull-device as a child process for tests: its JSON Lines events parsed, the result and
// the requests picked out. Every wait bounded: 5 s per step inside the device, 60 s in all.

#include "subprocess.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace otaflash::test {

struct device_run {
    process_result r;
    std::vector<nlohmann::json> events;

    nlohmann::json result() const;                 // the "result" event (null when none)
    std::vector<nlohmann::json> requests() const;  // every "request" event, in order
};

// Runs build/bin/otaflash-pull-device with `args` (and --timeout 5000 unless given); a stdout line that is not
// JSON fails the calling test. The device's secrets come from `options.env` only, never from the
// environment the tests run in (OTAFLASH_DEVICE_PASSWORD / _TOKEN are unset otherwise).
device_run pull(std::vector<std::string> args, process_options options = {});

// A run with --drop-after `cut` that updated anyway: the first download (request 2) cut after
// `cut` bytes, the rest of the `size`-byte image fetched once with Range (206, "bytes=cut-").
void expect_resumed_once(const device_run& run, std::size_t cut, std::size_t size);

}  // namespace otaflash::test
