#pragma once
// `otaflash publish`: the pull server's answers that need no request headers, as files for any web
// server, object store or CDN (../shared/protocols/pull-updates.md §3). Every file's bytes are
// what proto::pull::decide answers for the same path, so a static tree and `otaflash serve` cannot
// drift apart. At the top and below "<channel>/" for every channel:
//   version, manifest.json, releases/latest, firmware.bin (the newest release, for clients that
//   send no headers), firmware/<sha256>.bin (every image of the channel, named by content hash),
// and SHA256SUMS at the top (`sha256sum -c` format) listing every other file.

#include <otaflash/proto/pull/decision.hpp>
#include <otaflash/result.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::proto::pull {

inline constexpr std::string_view sums_name = "SHA256SUMS";

// A channel with one of these names would be a folder beside a top-level file of the same name in
// the tree, or would shadow "/firmware/<sha256>.bin" and "/releases/latest" in `serve`: release
// loading refuses them for both commands.
bool channel_name_taken(std::string_view name) noexcept;

struct tree_file {
    std::string path;                   // relative, '/'-separated: "beta/manifest.json"
    std::string text;                   // a small body, or
    std::shared_ptr<const bytes> blob;  // image bytes (shared with the release)
    std::string sha256;                 // lowercase hex of the body
    std::string content_type;           // what `serve` sends with it (for object stores and CDNs)

    byte_view body() const noexcept;
};

// `base_url` prefixes the image URLs of manifest.json and releases/latest ("https://ota.example.com"
// or "" for root-relative URLs), without a trailing '/'. Ordered so that writing the files in
// order never names a file not yet written: images first, then the files that point at them,
// SHA256SUMS last. Fails (usage_error) when a channel's folder would collide with a top-level
// file or folder (a channel named "version", "firmware", "releases" or "SHA256SUMS").
result<std::vector<tree_file>> static_tree(const release::catalog& catalog, const std::string& base_url,
                                           const settings& options = {});

struct sums_entry {
    std::string sha256;  // lowercase hex
    std::string path;
};

// The files an earlier publish's SHA256SUMS lists that `tree` no longer has, ordered by path.
// Lines that are not "<64 hex>  <path>" or whose path is not a plain relative path (absolute,
// "..", ".") are ignored, so a tampered SHA256SUMS cannot name a file outside the tree.
std::vector<sums_entry> stale_files(std::string_view previous_sums, const std::vector<tree_file>& tree);

// SHA256SUMS for the files of `tree` (its own SHA256SUMS excepted) and `kept` (files of earlier
// publishes still in the folder, so that a later --prune still finds them), ordered by path.
tree_file sums_file(const std::vector<tree_file>& tree, const std::vector<sums_entry>& kept = {});

}  // namespace otaflash::proto::pull
