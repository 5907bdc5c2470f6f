#pragma once
// "Did you mean ...?" for a mistyped command name.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::cli {

// The candidate closest to `word` by edits (insert, delete, replace, swap two neighbours), when it
// is close enough to be a typo: at most 2 edits, and fewer than half the word's letters.
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace otaflash::cli
