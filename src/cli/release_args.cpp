#include "cli/release_args.hpp"

#include <otaflash/release_store/load.hpp>

#include <CLI/CLI.hpp>

namespace otaflash::cli {

void add_release_args(CLI::App& sub, release_args& args, const std::string& verb) {
    sub.add_option("release", args.paths, "Image file(s) or release folder(s) holding releases.json")->required();
    sub.add_option("--version", args.version,
                   "Version of an image file (default: its app descriptor). Versions compare as semantic "
                   "versions when both are (1.2.10 > 1.2.9), otherwise any different text is an update");
    sub.add_option("--title", args.title, "Title of an image file (default: its project name, else the file name)");
    sub.add_option("--channel", args.channels, "Channel of an image file (repeatable): " + verb + " below /CHANNEL/");
    sub.add_option("--fs", args.fs_image,
                   "Filesystem image of the (one) image file: what x-*-mode: spiffs requests get, an asset of "
                   "releases/latest");
}

result<std::vector<release::release>> load_releases(const release_args& args) {
    release_store::load_options load;
    if (!args.version.empty()) load.version = args.version;
    if (!args.title.empty()) load.title = args.title;
    if (!args.fs_image.empty()) load.fs_image = args.fs_image;
    load.channels = args.channels;
    return release_store::load_releases(args.paths, load);
}

}  // namespace otaflash::cli
