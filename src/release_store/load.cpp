#include <otaflash/release_store/load.hpp>

#include <otaflash/io/file.hpp>
#include <otaflash/proto/pull/static_tree.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace otaflash::release_store {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct entry_spec {
    std::string image_path;
    std::optional<std::string> fs_path, version, title, chip_name;
    std::vector<std::string> channels;
    std::string source;  // for messages
};

// A channel is a folder name in URLs and in `publish`'s tree: nothing that could leave it, and
// no name the top of the tree already has. Empty when the name is usable.
std::string channel_problem(const std::string& name) {
    if (name.empty() || name.find_first_of("/\\.%?#") != std::string::npos)
        return "a channel is a plain name (no '/', '\\', '.', '%', '?' or '#')";
    if (proto::pull::channel_name_taken(name))
        return "version, firmware, releases and SHA256SUMS are top-level paths, not channel names";
    return {};
}

failure in_source(failure f, const std::string& source) {
    f.message = source + ": " + f.message;
    return f;
}

result<release::release> build(const entry_spec& spec) {
    auto data = read_file(spec.image_path);
    if (!data) return in_source(std::move(data).error(), spec.source);
    auto facts = release::examine_app_image(*data);
    if (!facts) return in_source(std::move(facts).error(), spec.image_path);
    if (spec.chip_name) {
        const auto* named = find_chip(*spec.chip_name);
        if (!named)
            return make_failure(errc::chip_mismatch, spec.source + ": unknown chip '" + *spec.chip_name + "'",
                                "known chips: " + chip_name_list());
        if (named->id != facts->target)
            return make_failure(errc::chip_mismatch,
                                spec.source + ": says chip " + std::string(named->name) + " but " + spec.image_path +
                                    " is an " + std::string(name(facts->target)) + " image",
                                "fix \"chip\" in the manifest or point \"image\" at the right build");
    }
    release::release r;
    r.source = spec.source;
    if (spec.version) r.version = *spec.version;
    else if (facts->embedded_version) r.version = *facts->embedded_version;
    else
        return make_failure(errc::usage_error, spec.image_path + " carries no version (no ESP-IDF app descriptor)",
                            "give the version: --version X.Y.Z, or \"version\" in the release folder's manifest");
    if (spec.title) r.title = *spec.title;
    else if (facts->project) r.title = *facts->project;
    else r.title = fs::path(spec.image_path).stem().string();
    r.channels = spec.channels;
    r.facts = std::move(*facts);
    r.app = release::make_blob(std::move(*data));
    if (spec.fs_path) {
        auto fs_data = read_file(*spec.fs_path);
        if (!fs_data) return in_source(std::move(fs_data).error(), spec.source);
        r.fs = release::make_blob(std::move(*fs_data));
    }
    return r;
}

failure manifest_error(const std::string& path, const std::string& what) {
    return make_failure(errc::config_invalid, path + ": " + what,
                        "see README \"Release folders\" for the manifest format");
}

// A path from the manifest, kept inside the folder (no absolute paths, no "..").
result<std::string> inside(const fs::path& folder, const std::string& manifest, const std::string& name) {
    fs::path rel(name);
    if (name.empty() || rel.is_absolute())
        return manifest_error(manifest, "\"" + name + "\" must be a file name relative to the folder");
    for (const auto& part : rel)
        if (part == "..") return manifest_error(manifest, "\"" + name + "\" leaves the release folder");
    return (folder / rel).string();
}

result<std::vector<entry_spec>> read_manifest(const std::string& folder) {
    auto manifest = (fs::path(folder) / manifest_name).string();
    auto text = read_file(manifest);
    if (!text) {
        auto f = std::move(text).error();
        f.hint = "a release folder holds " + std::string(manifest_name) + " (README \"Release folders\")";
        return f;
    }
    json doc = json::parse(as_text(*text), nullptr, false);
    if (doc.is_discarded()) return manifest_error(manifest, "not valid JSON");
    if (!doc.is_object() || !doc.contains("releases") || !doc["releases"].is_array() || doc["releases"].empty())
        return manifest_error(manifest, "needs a non-empty \"releases\" array");
    std::vector<entry_spec> out;
    std::size_t index = 0;
    for (const auto& item : doc["releases"]) {
        std::string where = manifest + " releases[" + std::to_string(index++) + "]";
        if (!item.is_object() || !item.contains("image") || !item["image"].is_string())
            return manifest_error(where, "needs \"image\": the application image's file name");
        entry_spec spec;
        spec.source = where;
        auto image = inside(folder, where, item["image"].get<std::string>());
        if (!image) return std::move(image).error();
        spec.image_path = *image;
        for (const char* key : {"fs", "version", "title", "chip"}) {
            if (!item.contains(key)) continue;
            if (!item[key].is_string()) return manifest_error(where, std::string("\"") + key + "\" must be a string");
        }
        if (item.contains("fs")) {
            auto fs_path = inside(folder, where, item["fs"].get<std::string>());
            if (!fs_path) return std::move(fs_path).error();
            spec.fs_path = *fs_path;
        }
        if (item.contains("version")) spec.version = item["version"].get<std::string>();
        if (item.contains("title")) spec.title = item["title"].get<std::string>();
        if (item.contains("chip")) spec.chip_name = item["chip"].get<std::string>();
        if (item.contains("channels")) {
            if (!item["channels"].is_array()) return manifest_error(where, "\"channels\" must be an array of names");
            for (const auto& c : item["channels"]) {
                if (!c.is_string()) return manifest_error(where, "\"channels\" must be an array of names");
                if (auto problem = channel_problem(c.get<std::string>()); !problem.empty())
                    return manifest_error(where, "channel '" + c.get<std::string>() + "': " + problem);
                spec.channels.push_back(c.get<std::string>());
            }
        }
        out.push_back(std::move(spec));
    }
    return out;
}

}  // namespace

result<std::vector<release::release>> load_releases(const std::vector<std::string>& paths, const load_options& options) {
    std::vector<entry_spec> specs;
    for (const auto& path : paths) {
        std::error_code ec;
        if (fs::is_directory(path, ec)) {
            auto entries = read_manifest(path);
            if (!entries) return std::move(entries).error();
            for (auto& e : *entries) specs.push_back(std::move(e));
            continue;
        }
        for (const auto& c : options.channels)
            if (auto problem = channel_problem(c); !problem.empty())
                return make_failure(errc::usage_error, "--channel '" + c + "' cannot be used", problem);
        entry_spec spec;
        spec.source = path;
        spec.image_path = path;
        spec.version = options.version;
        spec.title = options.title;
        spec.channels = options.channels;
        spec.fs_path = options.fs_image;
        specs.push_back(std::move(spec));
    }
    if (specs.empty()) return make_failure(errc::usage_error, "no release given", "name an image file or a release folder");
    std::vector<release::release> out;
    for (const auto& spec : specs) {
        auto r = build(spec);
        if (!r) return std::move(r).error();
        for (const auto& have : out)
            if (have.title == r->title && have.version == r->version && have.facts.target == r->facts.target &&
                have.channels == r->channels)
                return make_failure(errc::usage_error,
                                    "two releases are " + r->title + " " + r->version + " for " +
                                        std::string(name(r->facts.target)) + " (" + have.source + ", " + r->source + ")",
                                    "give each release its own version, title, chip or channels");
        out.push_back(std::move(*r));
    }
    return out;
}

}  // namespace otaflash::release_store
