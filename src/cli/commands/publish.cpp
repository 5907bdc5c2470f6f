// `otaflash publish RELEASE... --out DIR`: the releases `serve` would offer, as a static tree for
// nginx, an object store or a CDN (proto/pull/static_tree.hpp says which files). Loads and checks
// the releases exactly as serve does, then writes each file atomically; files of DIR that the tree
// does not name are left alone.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/proto/pull/static_tree.hpp>
#include <otaflash/release/catalog.hpp>
#include <otaflash/release_store/load.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <system_error>

namespace otaflash::cli {
namespace {

struct publish_options {
    std::vector<std::string> releases;
    std::string out;
    std::string base_url;
    std::string version, title, fs_image, type;
    std::vector<std::string> channels;
};

int run(app_context& ctx, const publish_options& o) {
    auto& report = ctx.report();
    release_store::load_options load;
    if (!o.version.empty()) load.version = o.version;
    if (!o.title.empty()) load.title = o.title;
    if (!o.fs_image.empty()) load.fs_image = o.fs_image;
    load.channels = o.channels;
    auto releases = release_store::load_releases(o.releases, load);
    if (!releases) return report.fail("publish", releases.error());
    std::string base = o.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!base.empty() && !base.starts_with("http://") && !base.starts_with("https://"))
        return report.fail("publish", make_failure(errc::usage_error, "--base-url '" + o.base_url + "' is not an http(s) URL",
                                                   "e.g. --base-url https://ota.example.com/fleet"));
    release::catalog catalog(std::move(*releases), {});
    proto::pull::settings settings;
    if (!o.type.empty()) settings.fota_type = o.type;
    const auto files = proto::pull::static_tree(catalog, base, settings);

    nlohmann::json listed = nlohmann::json::array();
    for (const auto& f : files) {
        const std::filesystem::path path = std::filesystem::path(o.out) / f.path;
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec)
            return report.fail("publish", make_failure(errc::write_failed,
                                                       "cannot create " + path.parent_path().string() + ": " + ec.message(),
                                                       "check --out and its permissions"));
        if (auto written = write_file_atomic(path.string(), f.body()); !written) return report.fail("publish", written.error());
        listed.push_back({{"path", f.path}, {"size", f.body().size()}, {"sha256", f.sha256}});
        if (!report.json()) report.line(f.sha256.substr(0, 12) + "  " + std::to_string(f.body().size()) + "\t" + f.path);
    }
    if (base.empty())
        report.warn("manifest.json and releases/latest name images by root-relative URLs (/firmware/...); clients that "
                    "need absolute URLs (esp32FOTA) want --base-url https://HOST");
    if (!report.json())
        report.line("published " + std::to_string(catalog.releases().size()) + " release(s) as " +
                    std::to_string(files.size()) + " files in " + o.out);
    return report.succeed("publish", {{"out", o.out}, {"base_url", base}, {"files", listed}});
}

}  // namespace

void register_publish(CLI::App& app, app_context& ctx) {
    auto opts = std::make_shared<publish_options>();
    auto* sub = app.add_subcommand("publish", "Write releases as a static tree for a web server or CDN (devices pull)");
    sub->add_option("release", opts->releases, "Image file(s) or release folder(s) holding releases.json")->required();
    sub->add_option("--out", opts->out, "Folder to write the tree into (created; other files in it are kept)")->required();
    sub->add_option("--base-url", opts->base_url,
                    "Where the tree will be served (https://HOST/PATH): image URLs in manifest.json and "
                    "releases/latest are absolute below it (default: root-relative)");
    sub->add_option("--version", opts->version, "Version of an image file (default: its app descriptor)");
    sub->add_option("--title", opts->title, "Title of an image file (default: its project name, else the file name)");
    sub->add_option("--channel", opts->channels, "Channel of an image file (repeatable): published below CHANNEL/");
    sub->add_option("--fs", opts->fs_image, "Filesystem image published with the (single) image file");
    sub->add_option("--type", opts->type, "esp32FOTA \"type\" in manifest.json (default: the release's title)");
    ctx.on_run(sub, [opts](app_context& c) { return run(c, *opts); });
}

}  // namespace otaflash::cli
