#include <otaflash/release/catalog.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/release/version.hpp>

#include <algorithm>

namespace otaflash::release {
namespace {
bool in_family(const release& r, chip_family family) {
    switch (family) {
    case chip_family::any: return true;
    case chip_family::esp8266: return r.facts.target == chip::esp8266;
    case chip_family::esp32: return r.facts.target != chip::esp8266;
    }
    return true;
}
}  // namespace

unsigned rollout_bucket(std::string_view normalized_mac) {
    auto digest = sha256(as_bytes(normalized_mac));
    std::uint32_t v = (std::uint32_t{digest[0]} << 24) | (std::uint32_t{digest[1]} << 16) |
                      (std::uint32_t{digest[2]} << 8) | std::uint32_t{digest[3]};
    return v % 100;
}

catalog::catalog(std::vector<release> releases, policy rules) : releases_(std::move(releases)), rules_(std::move(rules)) {
    std::stable_sort(releases_.begin(), releases_.end(),
                     [](const release& a, const release& b) { return newer_release(a.version, b.version); });
}

selection catalog::select(const device_query& query) const {
    selection out;
    if (!rules_.allow.empty() &&
        std::find(rules_.allow.begin(), rules_.allow.end(), query.mac) == rules_.allow.end()) {
        out.refused = true;
        out.reason = query.mac.empty() ? "the device sent no MAC and an allow-list is set"
                                       : "MAC " + query.mac + " is not on the allow-list";
        return out;
    }
    std::vector<const release*> candidates, other_family;
    for (const auto& r : releases_) {
        if (!r.in_channel(query.channel)) continue;
        if (!query.title.empty() && r.title != query.title) continue;
        (in_family(r, query.family) ? candidates : other_family).push_back(&r);
    }
    if (candidates.empty()) candidates = std::move(other_family);
    if (candidates.empty()) {
        out.reason = "no release" + (query.title.empty() ? std::string() : " titled '" + query.title + "'") +
                     (query.channel.empty() ? std::string(" in the default channel") : " in channel '" + query.channel + "'");
        return out;
    }
    if (auto pin = rules_.pins.find(query.mac); !query.mac.empty() && pin != rules_.pins.end()) {
        for (const auto* r : candidates)
            if (r->version == pin->second) {
                out.chosen = r;
                return out;
            }
        out.refused = true;
        out.reason = "MAC " + query.mac + " is pinned to version " + pin->second + ", which is not served";
        return out;
    }
    if (rules_.rollout_percent < 100 && (query.mac.empty() || rollout_bucket(query.mac) >= rules_.rollout_percent)) {
        out.held_back = true;
        out.reason = "held back by the staged roll-out (" + std::to_string(rules_.rollout_percent) + "%" +
                     (query.mac.empty() ? ", no MAC sent" : ", bucket " + std::to_string(rollout_bucket(query.mac))) + ")";
        for (std::size_t i = 1; i < candidates.size() && !out.chosen; ++i)
            if (candidates[i]->title == candidates.front()->title) out.chosen = candidates[i];
        return out;
    }
    out.chosen = candidates.front();
    return out;
}

const release* catalog::find_by_title(std::string_view title, std::string_view channel) const {
    for (const auto& r : releases_)
        if (r.title == title && r.in_channel(channel)) return &r;
    return nullptr;
}

const release* catalog::latest(std::string_view channel) const {
    for (const auto& r : releases_)
        if (r.in_channel(channel)) return &r;
    return nullptr;
}

std::vector<std::string> catalog::channels() const {
    std::vector<std::string> out;
    for (const auto& r : releases_)
        for (const auto& c : r.channels)
            if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    return out;
}

}  // namespace otaflash::release
