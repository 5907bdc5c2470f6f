#pragma once
// The file a push sends: read once, `.signed` substitution, preflight. Shared by `push` and
// `espota`.

#include "cli/push_preflight.hpp"

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace otaflash::cli {

struct push_image {
    std::string path;                 // the file actually sent (FILE.signed when substituted)
    bytes data;
    nlohmann::json facts;             // chip, kind, signed: merged into the JSON "image" object
    std::vector<std::string> warnings;
    std::vector<std::string> notes;
};

// `use_signed`: send FILE.signed instead of FILE when it exists (esp8266 signed builds).
result<push_image> load_push_image(const std::string& path, bool use_signed, preflight_request checks);

}  // namespace otaflash::cli
