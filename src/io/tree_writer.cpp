#include <otaflash/io/tree_writer.hpp>

#include <otaflash/io/file.hpp>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace otaflash {
namespace {

namespace fs = std::filesystem;

failure folder_failure(const fs::path& path, const std::string& what) {
    return make_failure(errc::write_failed, "cannot create the folder " + path.string() + ": " + what,
                        "give --out a folder you can write to (it is created when missing)");
}

result<void> make_folder(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) return {};
    if (fs::exists(path, ec)) return folder_failure(path, "a file of that name is in the way");
    fs::create_directories(path, ec);
    if (ec) return folder_failure(path, ec.message());
    return {};
}

bool same_bytes(const fs::path& path, byte_view body) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) != body.size() || ec) return false;
    auto have = read_file(path.string(), true);
    return have && std::equal(have->begin(), have->end(), body.begin(), body.end());
}

// Removes `root/relative`, then each folder of `relative` it leaves empty (never `root`).
result<void> remove_with_empty_parents(const fs::path& root, const std::string& relative) {
    std::error_code ec;
    fs::path path = root / relative;
    if (!fs::remove(path, ec) && ec && ec != std::errc::no_such_file_or_directory)
        return make_failure(errc::write_failed, "cannot remove " + path.string() + ": " + ec.message(),
                            "check the folder's permissions, or publish without --prune");
    for (auto depth = std::count(relative.begin(), relative.end(), '/'); depth > 0; --depth) {
        path = path.parent_path();
        if (!fs::is_empty(path, ec) || ec || !fs::remove(path, ec)) break;
    }
    return {};
}

}  // namespace

result<tree_write_report> write_tree(const std::string& dir, std::vector<proto::pull::tree_file> tree,
                                     const tree_write_options& options) {
    const fs::path root(dir);
    if (auto made = make_folder(root); !made) return std::move(made).error();
    tree_write_report report;
    // What earlier publishes wrote, read before this one replaces their SHA256SUMS. Kept files
    // stay listed (while they exist), so `sha256sum --check` covers them and a later --prune finds them.
    std::vector<proto::pull::sums_entry> kept;
    if (auto previous = read_file((root / proto::pull::sums_name).string(), true))
        for (auto& entry : proto::pull::stale_files(
                 std::string_view(reinterpret_cast<const char*>(previous->data()), previous->size()), tree)) {
            std::error_code ec;
            if (!fs::is_regular_file(root / entry.path, ec)) continue;  // removed by hand: forgotten
            report.stale.push_back(entry.path);
            kept.push_back(std::move(entry));
        }
    if (!options.prune && !kept.empty() && !tree.empty() && tree.back().path == proto::pull::sums_name)
        tree.back() = proto::pull::sums_file(tree, kept);
    for (const auto& f : tree) {
        const fs::path path = root / f.path;
        if (auto made = make_folder(path.parent_path()); !made) return std::move(made).error();
        const bool unchanged = same_bytes(path, f.body());
        if (!unchanged)
            if (auto done = write_file_atomic(path.string(), f.body()); !done) return std::move(done).error();
        report.written.push_back(!unchanged);
    }
    report.files = std::move(tree);
    if (options.prune) {
        for (const auto& stale : report.stale)
            if (auto removed = remove_with_empty_parents(root, stale); !removed) return std::move(removed).error();
        report.pruned = true;
    }
    return report;
}

}  // namespace otaflash
