// `otaflash publish RELEASE... --out DIR`: the releases `serve` would offer, as a static tree for
// nginx, an object store or a CDN (proto/pull/static_tree.hpp says which files, io/tree_writer.hpp
// how they are written). Releases are loaded and checked exactly as serve loads them.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/release_args.hpp"

#include <otaflash/io/tree_writer.hpp>
#include <otaflash/proto/pull/static_tree.hpp>
#include <otaflash/release/catalog.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace otaflash::cli {
namespace {

struct publish_options {
    release_args releases;
    std::string out;
    std::string base_url;
    std::string type;
    bool prune = false;
};

// "https://HOST[:PORT][/PATH]" without a trailing '/', or "" when not given.
result<std::string> base_url_of(const std::string& given) {
    std::string base = given;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (given.empty()) return base;
    const auto scheme_end = base.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : base.substr(0, scheme_end);
    const bool has_host = scheme_end != std::string::npos && base.size() > scheme_end + 3 && base[scheme_end + 3] != '/';
    const bool plain = base.find_first_of("?# \t\r\n\"\\") == std::string::npos;
    if ((scheme != "http" && scheme != "https") || !has_host || !plain)
        return make_failure(errc::usage_error, "--base-url '" + given + "' is not an http(s) URL of a folder",
                            "give where the tree will be served, e.g. --base-url https://ota.example.com/fleet");
    return base;
}

nlohmann::json release_list(const release::catalog& catalog) {
    auto list = nlohmann::json::array();
    for (const auto& rel : catalog.releases())
        list.push_back({{"title", rel.title},
                        {"version", rel.version},
                        {"chip", std::string(name(rel.facts.target))},
                        {"channels", rel.channels},
                        {"source", rel.source}});
    return list;
}

int run(app_context& ctx, const publish_options& o) {
    auto& report = ctx.report();
    auto base = base_url_of(o.base_url);
    if (!base) return report.fail("publish", base.error());
    auto releases = load_releases(o.releases);
    if (!releases) return report.fail("publish", releases.error());
    release::catalog catalog(std::move(*releases), {});
    proto::pull::settings settings;
    if (!o.type.empty()) settings.fota_type = o.type;
    auto tree = proto::pull::static_tree(catalog, *base, settings);
    if (!tree) return report.fail("publish", tree.error());

    tree_write_options write;
    write.prune = o.prune;
    auto written = write_tree(o.out, std::move(*tree), write);
    if (!written) return report.fail("publish", written.error());
    const auto& files_written = written->files;

    auto files = nlohmann::json::array();
    std::size_t changed = 0;
    for (std::size_t i = 0; i < files_written.size(); ++i) {
        const auto& f = files_written[i];
        const bool wrote = written->written[i];
        changed += wrote;
        files.push_back({{"path", f.path},
                         {"size", f.body().size()},
                         {"sha256", f.sha256},
                         {"content_type", f.content_type},
                         {"written", wrote}});
        report.line(std::string(wrote ? "written   " : "unchanged ") + f.sha256.substr(0, 12) + " " +
                    std::to_string(f.body().size()) + "\t" + f.path);
    }
    for (const auto& stale : written->stale) report.line(std::string(written->pruned ? "removed   " : "stale     ") + stale);
    if (!written->stale.empty() && !written->pruned)
        report.warn(std::to_string(written->stale.size()) +
                    " file(s) of an earlier publish are no longer in the tree and were kept (a device that read an "
                    "older manifest can still download them; SHA256SUMS lists them); --prune removes them");
    if (base->empty())
        report.warn("manifest.json and releases/latest name images by root-relative URLs (/firmware/...); esp32FOTA "
                    "needs absolute ones: give --base-url https://HOST/PATH where the tree will be served");
    report.line("published " + std::to_string(catalog.releases().size()) + " release(s) as " +
                std::to_string(files_written.size()) + " files in " + o.out + " (" + std::to_string(changed) + " written, " +
                std::to_string(files_written.size() - changed) + " unchanged)");
    return report.succeed("publish", {{"out", o.out},
                                      {"base_url", *base},
                                      {"releases", release_list(catalog)},
                                      {"files", files},
                                      {"written", changed},
                                      {"unchanged", files_written.size() - changed},
                                      {"stale", written->stale},
                                      {"pruned", written->pruned}});
}

}  // namespace

void register_publish(CLI::App& app, app_context& ctx) {
    auto opts = std::make_shared<publish_options>();
    auto* sub = app.add_subcommand("publish", "Write releases as a static tree for a web server, object store or CDN");
    add_release_args(*sub, opts->releases, "published");
    sub->add_option("--out", opts->out, "Folder to write the tree into (created when missing; other files are kept)")
        ->required();
    sub->add_option("--base-url", opts->base_url,
                    "Where the tree will be served (https://HOST/PATH): the image URLs of manifest.json and "
                    "releases/latest are absolute below it (default: root-relative, with a warning)");
    sub->add_option("--type", opts->type, "esp32FOTA manifest.json \"type\" (default: the release's title)");
    sub->add_flag("--prune", opts->prune,
                  "Remove the files an earlier publish listed in SHA256SUMS that the new tree no longer has");
    sub->footer(
        "Files: version, manifest.json, releases/latest, firmware.bin, firmware/SHA256.bin, the same\n"
        "below CHANNEL/, SHA256SUMS; byte for byte what `otaflash serve` answers for those paths.\n"
        "Each file is written atomically and only when its bytes changed; images before the files\n"
        "that name them, SHA256SUMS last.\n\n"
        "Exit status: 0 published; 2 bad option (--base-url, a channel name); 3 bad releases.json;\n"
        "4 bad image; 9 --out or a file in it cannot be written; 13 result not written to stdout.\n\n"
        "Examples:\n"
        "  otaflash publish app.bin --version 2.4.0 --out site --base-url https://ota.example.com/fleet\n"
        "  otaflash publish releases/ --out site --base-url http://192.168.1.5 --prune\n"
        "  otaflash publish --json releases/ --out site | jq -r '.result.files[].path'");
    ctx.on_run(sub, [opts](app_context& c) { return run(c, *opts); });
}

}  // namespace otaflash::cli
