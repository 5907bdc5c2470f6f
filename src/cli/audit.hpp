#pragma once
// How a run ended, written to the --log-file (factory audits): a summary line (version, command,
// exit code and class, duration, the error), a line for each device and each file (what was sent
// or checked: path, size, digests; its result, class and exit code, its durations), the warnings,
// and the whole --json document on one line for machines. Secrets are never in any of them.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace otaflash::cli {

// `document`: the command's --json document (built in text mode too); `exit_code`: what the process
// exits with (13 when the document could not be written); `duration_ms`: the whole run.
std::vector<std::string> audit_lines(const nlohmann::json& document, int exit_code, long long duration_ms);

}  // namespace otaflash::cli
