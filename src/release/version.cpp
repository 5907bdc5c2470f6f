#include <otaflash/release/version.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <vector>

namespace otaflash::release {
namespace {

struct semver {
    std::uint64_t core[3] = {0, 0, 0};
    std::vector<std::string_view> pre;  // empty: a release (ranks above any pre-release)
};

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

bool identifier_ok(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return false;
    return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) return out;
        start = pos + 1;
    }
}

std::optional<semver> parse(std::string_view text) {
    if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) text.remove_prefix(1);
    if (auto plus = text.find('+'); plus != std::string_view::npos) {
        for (auto id : split(text.substr(plus + 1), '.'))
            if (!identifier_ok(id)) return std::nullopt;
        text = text.substr(0, plus);
    }
    semver v;
    if (auto dash = text.find('-'); dash != std::string_view::npos) {
        v.pre = split(text.substr(dash + 1), '.');
        for (auto id : v.pre)
            if (!identifier_ok(id)) return std::nullopt;
        text = text.substr(0, dash);
    }
    auto parts = split(text, '.');
    if (parts.size() > 3) return std::nullopt;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!all_digits(parts[i])) return std::nullopt;
        auto [p, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), v.core[i]);
        if (ec != std::errc{}) return std::nullopt;
    }
    return v;
}

int compare_identifier(std::string_view a, std::string_view b) {
    bool na = all_digits(a), nb = all_digits(b);
    if (na && nb) {
        if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;  // no leading zeros in semver
        return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
    }
    if (na != nb) return na ? -1 : 1;  // numeric identifiers rank below alphanumeric ones
    int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int compare(const semver& a, const semver& b) {
    for (int i = 0; i < 3; ++i)
        if (a.core[i] != b.core[i]) return a.core[i] < b.core[i] ? -1 : 1;
    if (a.pre.empty() || b.pre.empty()) {
        if (a.pre.empty() && b.pre.empty()) return 0;
        return a.pre.empty() ? 1 : -1;
    }
    for (std::size_t i = 0; i < a.pre.size() && i < b.pre.size(); ++i)
        if (int c = compare_identifier(a.pre[i], b.pre[i])) return c;
    if (a.pre.size() == b.pre.size()) return 0;
    return a.pre.size() < b.pre.size() ? -1 : 1;
}

}  // namespace

bool is_semantic(std::string_view text) { return parse(text).has_value(); }

version_order compare_versions(std::string_view device, std::string_view offered) {
    auto d = parse(device), o = parse(offered);
    if (d && o) {
        int c = compare(*d, *o);
        return c < 0 ? version_order::older : (c == 0 ? version_order::same : version_order::newer);
    }
    return device == offered ? version_order::same : version_order::different;
}

bool is_not_older(std::string_view device, std::string_view offered) {
    auto order = compare_versions(device, offered);
    return order == version_order::same || order == version_order::newer;
}

bool newer_release(std::string_view a, std::string_view b) {
    auto pa = parse(a), pb = parse(b);
    if (pa && pb) {
        if (int c = compare(*pa, *pb)) return c > 0;
    } else if (pa.has_value() != pb.has_value()) {
        return pa.has_value();  // a semantic version ranks above free text
    }
    return a > b;
}

}  // namespace otaflash::release
