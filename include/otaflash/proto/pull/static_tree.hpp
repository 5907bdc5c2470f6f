#pragma once
// `otaflash publish`: the pull server's answers that need no request headers, as files for any web
// server, object store or CDN (../shared/protocols/pull-updates.md §3). The files are what
// proto::pull::decide answers for the same paths, so a static tree and `otaflash serve` cannot
// drift apart: at "/" and below "/<channel>/" for every channel,
//   version, manifest.json, releases/latest, firmware.bin (the newest release, for clients that
//   send no headers), firmware/<sha256>.bin (every image of the channel, named by content hash),
// and SHA256SUMS at the top (`sha256sum -c` format) for every other file.

#include <otaflash/proto/pull/decision.hpp>

#include <memory>
#include <string>
#include <vector>

namespace otaflash::proto::pull {

struct tree_file {
    std::string path;                   // relative, '/'-separated: "beta/manifest.json"
    std::string text;                   // a small body, or
    std::shared_ptr<const bytes> blob;  // image bytes (shared with the release)
    std::string sha256;                 // lowercase hex of the body

    byte_view body() const noexcept;
};

// `base_url` prefixes the image URLs of manifest.json and releases/latest ("https://ota.example.com"
// or "" for root-relative URLs). Ordered by path; SHA256SUMS last.
std::vector<tree_file> static_tree(const release::catalog& catalog, const std::string& base_url,
                                   const settings& options = {});

}  // namespace otaflash::proto::pull
