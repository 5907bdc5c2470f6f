#include <otaflash/proto/pull/static_tree.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace otaflash::proto::pull {
namespace {

std::string header_of(const response_plan& plan, std::string_view name) {
    for (const auto& [k, v] : plan.headers)
        if (k == name) return v;
    return {};
}

// Images first (nothing names a file not yet there), then firmware.bin, then what points at images.
int write_rank(const std::string& path) {
    const auto slash = path.rfind('/');
    const std::string_view dir = slash == std::string::npos ? std::string_view{} : std::string_view(path).substr(0, slash);
    if (dir == "firmware" || dir.ends_with("/firmware")) return 0;
    const std::string_view leaf = slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
    return leaf == "firmware.bin" ? 1 : 2;
}

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');  // as publish writes them
           });
}

}  // namespace

bool channel_name_taken(std::string_view name) noexcept {
    constexpr std::string_view taken[] = {"version", "firmware", "releases", sums_name};
    return std::find(std::begin(taken), std::end(taken), name) != std::end(taken);
}

byte_view tree_file::body() const noexcept {
    if (blob) return byte_view{*blob};
    return byte_view{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

result<std::vector<tree_file>> static_tree(const release::catalog& catalog, const std::string& base_url,
                                           const settings& options) {
    std::map<std::string, tree_file> files;
    std::vector<std::string> channels{""};
    for (const auto& c : catalog.channels()) {
        if (channel_name_taken(c))
            return make_failure(errc::usage_error,
                                "channel '" + c + "' has the name of a file or folder at the top of the tree",
                                "rename the channel (version, firmware, releases and SHA256SUMS are taken)");
        channels.push_back(c);
    }
    for (const auto& channel : channels) {
        const std::string prefix = channel.empty() ? "" : channel + "/";
        for (const char* name : {"version", "manifest.json", "releases/latest", "firmware.bin"}) {
            request_facts r;
            r.method = "GET";
            r.target = "/" + prefix + name;
            r.base_url = base_url;
            auto plan = decide(r, catalog, options);
            if (plan.status != 200) continue;  // nothing in this channel for clients without headers
            tree_file f;
            f.path = prefix + name;
            f.content_type = header_of(plan, "Content-Type");
            if (plan.blob) {
                f.blob = plan.blob;  // a 200 is the whole blob
                f.sha256 = header_of(plan, "x-SHA256");
            } else {
                f.text = std::move(plan.text);
            }
            files[f.path] = std::move(f);
        }
        for (const auto& rel : catalog.releases()) {
            if (!rel.in_channel(channel)) continue;
            for (const auto* blob : {&rel.app, rel.fs ? &*rel.fs : nullptr}) {
                if (!blob || !blob->data) continue;
                tree_file f;
                f.path = prefix + "firmware/" + blob->sha256 + ".bin";
                f.blob = blob->data;
                f.sha256 = blob->sha256;
                f.content_type = "application/octet-stream";
                files[f.path] = std::move(f);
            }
        }
    }
    std::vector<tree_file> out;
    for (auto& [path, f] : files) {
        if (f.sha256.empty()) f.sha256 = to_hex(sha256(f.body()));
        out.push_back(std::move(f));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const tree_file& a, const tree_file& b) { return write_rank(a.path) < write_rank(b.path); });
    out.push_back(sums_file(out));
    return out;
}

tree_file sums_file(const std::vector<tree_file>& tree, const std::vector<sums_entry>& kept) {
    std::map<std::string, std::string> lines;
    for (const auto& f : tree)
        if (f.path != sums_name) lines[f.path] = f.sha256;
    for (const auto& k : kept) lines.emplace(k.path, k.sha256);
    tree_file s;
    s.path = std::string(sums_name);
    for (const auto& [path, sha] : lines) s.text += sha + "  " + path + "\n";
    s.sha256 = to_hex(sha256(s.body()));
    s.content_type = "text/plain; charset=utf-8";
    return s;
}

std::vector<sums_entry> stale_files(std::string_view previous_sums, const std::vector<tree_file>& tree) {
    std::set<std::string> now;
    for (const auto& f : tree) now.insert(f.path);
    std::map<std::string, std::string> stale;
    while (!previous_sums.empty()) {
        const auto nl = previous_sums.find('\n');
        std::string_view line = previous_sums.substr(0, nl);
        previous_sums.remove_prefix(nl == std::string_view::npos ? previous_sums.size() : nl + 1);
        if (line.size() < 67 || !is_hex64(line.substr(0, 64)) || line.substr(64, 2) != "  ") continue;
        const std::string path(line.substr(66));
        auto segments = path_segments("/" + path);
        if (!segments || segments->empty() || path.back() == '/' || path.find('?') != std::string::npos ||
            path.find('%') != std::string::npos)
            continue;
        if (!now.count(path)) stale.emplace(path, std::string(line.substr(0, 64)));
    }
    std::vector<sums_entry> out;
    for (auto& [path, sha] : stale) out.push_back({std::move(sha), path});
    return out;
}

}  // namespace otaflash::proto::pull
