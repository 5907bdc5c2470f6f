#pragma once
// Writes a static tree (proto/pull/static_tree.hpp) into a folder, for `otaflash publish`: each
// file atomically (a web server serving the folder never hands out half a file), in the tree's
// order (a manifest never names an image not yet there), and only when its bytes changed, so a
// re-publish of the same releases keeps every file's mtime (ETag, Last-Modified, CDN caches and
// `rsync`/object-store syncs see nothing new).

#include <otaflash/proto/pull/static_tree.hpp>
#include <otaflash/result.hpp>

#include <string>
#include <vector>

namespace otaflash {

struct tree_write_options {
    // Remove the files an earlier publish listed in its SHA256SUMS that this tree no longer has
    // (and folders left empty by that); otherwise they stay, so a device that read an older
    // manifest can still finish its download, and stay listed in SHA256SUMS.
    bool prune = false;
};

struct tree_write_report {
    std::vector<proto::pull::tree_file> files;  // as written: SHA256SUMS also lists the kept stale files
    std::vector<bool> written;       // per file: false = already there, byte for byte
    std::vector<std::string> stale;  // files of an earlier publish not in this tree
    bool pruned = false;             // `stale` were removed
};

// Creates `dir` when missing. Stale files are those an earlier SHA256SUMS lists that `tree` has
// not and that are still there. Fails with write_failed (exit 9) naming the path when `dir` is not a
// folder or a file cannot be written; files written before the failure stay (each is whole).
result<tree_write_report> write_tree(const std::string& dir, std::vector<proto::pull::tree_file> tree,
                                     const tree_write_options& options = {});

}  // namespace otaflash
