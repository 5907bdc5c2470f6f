#pragma once
// progress_sink implementations: how the CLI shows the io layer's progress events on stderr.

#include "cli/terminal.hpp"

#include <otaflash/progress.hpp>
#include <otaflash/result.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace otaflash::cli {

enum class progress_mode { auto_, bar, plain, json, none };

result<progress_mode> parse_progress_mode(const std::string& text);

// auto: a bar on an interactive stderr, plain lines otherwise (CI, TERM=dumb, pipes),
// nothing under --json or -q unless a mode was asked for explicitly.
progress_mode resolve_progress_mode(progress_mode requested, const terminal_facts& facts, bool json_output,
                                    bool quiet) noexcept;

// `label` prefixes every line (the device name when several run at once).
std::unique_ptr<progress_sink> make_progress_renderer(progress_mode mode, const terminal_facts& facts,
                                                      std::string label = {}, std::FILE* out = stderr);

}  // namespace otaflash::cli
