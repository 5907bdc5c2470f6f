#pragma once
// Loading the releases `otaflash serve` and `publish` offer, from image files and release folders.
// Every image goes through the project's image checks (release::examine_app_image) here, so a
// broken image or an unknown chip is refused (input-class errc, exit 4) before anything listens.
//
// A RELEASE argument is either
//   * an image file: version from `version` (--version), else the image's app descriptor, else a
//     usage error; title from `title`, else the app descriptor's project name, else the file name
//     without extension; channels from `channels`; or
//   * a folder holding `releases.json` (README "Release folders"):
//       {"releases": [{"title": "sensor", "version": "2.4.0", "image": "sensor-2.4.0.bin",
//                      "chip": "esp32", "channels": ["stable", "beta"], "fs": "sensor-fs.bin"}]}
//     `image` and `fs` are paths relative to the folder and may not leave it; `chip`, when given,
//     must be the image's; `version` and `title` fall back as for a file; `channels` may be omitted.

#include <otaflash/release/release.hpp>
#include <otaflash/result.hpp>

#include <optional>
#include <string>
#include <vector>

namespace otaflash::release_store {

inline constexpr const char* manifest_name = "releases.json";

struct load_options {
    std::optional<std::string> version;   // for image files only
    std::optional<std::string> title;     // for image files only
    std::vector<std::string> channels;    // for image files only
    std::optional<std::string> fs_image;  // a filesystem image for the (single) image file
};

result<std::vector<release::release>> load_releases(const std::vector<std::string>& paths, const load_options& options);

}  // namespace otaflash::release_store
