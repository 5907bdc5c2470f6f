#pragma once
// The RELEASE arguments and per-image options that `serve` and `publish` share: one definition,
// so both commands load and check releases the same way (release_store/load.hpp).

#include <otaflash/release/release.hpp>
#include <otaflash/result.hpp>

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace otaflash::cli {

struct release_args {
    std::vector<std::string> paths;
    std::string version, title, fs_image;
    std::vector<std::string> channels;
};

// RELEASE..., --version, --title, --channel, --fs. `verb` says what the command does with a
// release ("served", "published") in the help texts.
void add_release_args(CLI::App& sub, release_args& args, const std::string& verb);

result<std::vector<release::release>> load_releases(const release_args& args);

}  // namespace otaflash::cli
