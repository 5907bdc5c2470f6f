#include <otaflash/proto/pull/static_tree.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <map>

namespace otaflash::proto::pull {

byte_view tree_file::body() const noexcept {
    if (blob) return byte_view{*blob};
    return byte_view{reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::vector<tree_file> static_tree(const release::catalog& catalog, const std::string& base_url, const settings& options) {
    std::map<std::string, tree_file> files;
    std::vector<std::string> channels{""};
    for (auto& c : catalog.channels()) channels.push_back(c);
    for (const auto& channel : channels) {
        const std::string prefix = channel.empty() ? "" : channel + "/";
        for (const char* name : {"version", "manifest.json", "releases/latest", "firmware.bin"}) {
            request_facts r;
            r.method = "GET";
            r.target = "/" + prefix + name;
            r.base_url = base_url;
            auto plan = decide(r, catalog, options);
            if (plan.status != 200) continue;
            tree_file f;
            f.path = prefix + name;
            if (plan.blob && plan.offset == 0 && plan.length == plan.blob->size()) f.blob = plan.blob;
            else if (plan.blob) f.text.assign(reinterpret_cast<const char*>(plan.blob->data()) + plan.offset, plan.length);
            else f.text = std::move(plan.text);
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
                files[f.path] = std::move(f);
            }
        }
    }
    std::vector<tree_file> out;
    std::string sums;
    for (auto& [path, f] : files) {
        if (f.sha256.empty()) f.sha256 = to_hex(sha256(f.body()));
        sums += f.sha256 + "  " + path + "\n";
        out.push_back(std::move(f));
    }
    tree_file s;
    s.path = "SHA256SUMS";
    s.text = std::move(sums);
    s.sha256 = to_hex(sha256(s.body()));
    out.push_back(std::move(s));
    return out;
}

}  // namespace otaflash::proto::pull
