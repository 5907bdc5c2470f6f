#include <otaflash/proto/pull/decision.hpp>

#include <otaflash/release/version.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace otaflash::proto::pull {
namespace {
using release::event_kind;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::string> header(const request_facts& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (lower(k) == name) return v;
    return std::nullopt;
}

std::optional<std::uint64_t> number(const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || p != text->data() + text->size()) return std::nullopt;
    return v;
}

std::string json_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                static constexpr char digits[] = "0123456789abcdef";
                out += "\\u00";
                out += digits[(c >> 4) & 0xF];
                out += digits[c & 0xF];
            } else {
                out += c;
            }
        }
    }
    return out;
}

std::string quoted(std::string_view s) { return "\"" + json_escape(s) + "\""; }

response_plan text_reply(unsigned status, std::string text, event_kind kind, std::string decision,
                         std::optional<errc> code = {}) {
    response_plan p;
    p.status = status;
    p.text = std::move(text);
    p.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    p.event.kind = kind;
    p.event.decision = std::move(decision);
    p.event.code = code;
    return p;
}

response_plan refuse(unsigned status, const std::string& reason, errc code) {
    auto p = text_reply(status, reason + "\n", event_kind::refused, std::to_string(status) + " " + reason, code);
    return p;
}

struct byte_range {
    std::size_t first, length;
};

// nullopt: no usable Range (serve the whole); "unsatisfiable" → 416.
struct range_result {
    bool present = false, satisfiable = true;
    byte_range range{0, 0};
};

range_result parse_range(std::string_view value, std::size_t size) {
    range_result out;
    if (!value.starts_with("bytes=")) return out;
    value.remove_prefix(6);
    if (value.find(',') != std::string_view::npos) return out;  // several ranges: answer with the whole
    auto dash = value.find('-');
    if (dash == std::string_view::npos) return out;
    auto first_text = value.substr(0, dash), last_text = value.substr(dash + 1);
    auto parse = [](std::string_view t, std::uint64_t& v) {
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        return !t.empty() && ec == std::errc{} && p == t.data() + t.size();
    };
    std::uint64_t first = 0, last = 0;
    out.present = true;
    if (first_text.empty()) {  // suffix: the last N bytes
        if (!parse(last_text, last)) return range_result{};
        if (last == 0 || size == 0) {
            out.satisfiable = false;
            return out;
        }
        auto n = std::min<std::uint64_t>(last, size);
        out.range = {static_cast<std::size_t>(size - n), static_cast<std::size_t>(n)};
        return out;
    }
    if (!parse(first_text, first)) return range_result{};
    if (last_text.empty()) last = size ? size - 1 : 0;
    else if (!parse(last_text, last) || last < first) return range_result{};  // invalid: ignored (RFC 9110)
    if (first >= size) {
        out.satisfiable = false;
        return out;
    }
    last = std::min<std::uint64_t>(last, size - 1);
    out.range = {static_cast<std::size_t>(first), static_cast<std::size_t>(last - first + 1)};
    return out;
}

// 200/206/416 for the bytes of a blob (with the Range rules); HEAD gets the same headers.
response_plan body_reply(const request_facts& r, const release::image_blob& blob, bool whole_image_counts) {
    response_plan p;
    const std::string etag = "\"" + blob.md5 + "\"";
    p.headers.emplace_back("Content-Type", "application/octet-stream");
    p.headers.emplace_back("Accept-Ranges", "bytes");
    p.headers.emplace_back("ETag", etag);
    p.headers.emplace_back("x-MD5", blob.md5);
    p.headers.emplace_back("x-SHA256", blob.sha256);
    p.blob = blob.data;
    p.offset = 0;
    p.length = blob.size();
    p.status = 200;
    p.event.total = blob.size();
    auto range = header(r, "range");
    auto if_range = header(r, "if-range");
    if (range && (!if_range || *if_range == etag)) {
        auto parsed = parse_range(*range, blob.size());
        if (parsed.present && !parsed.satisfiable) {
            auto out = text_reply(416, "range not satisfiable\n", event_kind::refused,
                                  "416 range " + *range + " outside " + std::to_string(blob.size()) + " bytes",
                                  errc::usage_error);
            out.headers.emplace_back("Content-Range", "bytes */" + std::to_string(blob.size()));
            return out;
        }
        if (parsed.present) {
            p.status = 206;
            p.offset = parsed.range.first;
            p.length = parsed.range.length;
            p.headers.emplace_back("Content-Range", "bytes " + std::to_string(p.offset) + "-" +
                                                        std::to_string(p.offset + p.length - 1) + "/" +
                                                        std::to_string(blob.size()));
        }
    }
    // A range that ends at the image's last byte completes a resumed download: it counts as
    // delivered; a range in the middle (or a HEAD) is only a request.
    p.whole_image = whole_image_counts && r.method == "GET" && p.offset + p.length == blob.size();
    p.event.kind = p.whole_image ? event_kind::delivered : event_kind::asked;  // the transport: failed when cut short
    p.event.total = p.length;
    p.event.decision = std::to_string(p.status) + (p.status == 206 ? " bytes " + std::to_string(p.offset) + "-" +
                                                                         std::to_string(p.offset + p.length - 1)
                                                                   : std::string(" image"));
    return p;
}

std::string prefix_of(const std::string& channel) { return channel.empty() ? "/" : "/" + channel + "/"; }

std::string image_url(const request_facts& r, const std::string& channel, const release::image_blob& blob) {
    return r.base_url + prefix_of(channel) + "firmware/" + blob.sha256 + ".bin";
}

std::vector<const release::release*> latest_per_title(const release::catalog& c, const std::string& channel) {
    std::vector<const release::release*> out;
    for (const auto& rel : c.releases()) {
        if (!rel.in_channel(channel)) continue;
        bool seen = false;
        for (const auto* have : out) seen = seen || (have->title == rel.title && have->facts.target == rel.facts.target);
        if (!seen) out.push_back(&rel);
    }
    return out;
}

response_plan json_reply(std::string body, std::string decision) {
    auto p = text_reply(200, std::move(body), event_kind::asked, std::move(decision));
    p.headers[0].second = "application/json";
    return p;
}

response_plan firmware(const request_facts& r, const release::catalog& c, const std::string& channel) {
    std::string family_prefix;
    release::chip_family family = release::chip_family::any;
    for (const auto& [k, v] : r.headers) {
        auto name = lower(k);
        if (name.starts_with("x-esp8266-")) family = release::chip_family::esp8266, family_prefix = "x-esp8266-";
        else if (name.starts_with("x-esp32-")) family = release::chip_family::esp32, family_prefix = "x-esp32-";
    }
    auto h = [&](std::string_view suffix) {
        return family_prefix.empty() ? std::nullopt : header(r, family_prefix + std::string(suffix));
    };
    release::device_query query;
    query.channel = channel;
    query.family = family;
    if (auto mac = h("sta-mac")) query.mac = release::normalize_mac(*mac).value_or("");
    const std::string device_version = h("version").value_or("");
    const std::string mode = lower(h("mode").value_or("sketch"));

    auto finish = [&](response_plan p) {
        p.event.device = query.mac;
        p.event.chip = family == release::chip_family::esp8266 ? "esp8266" : family == release::chip_family::esp32 ? "esp32" : "";
        p.event.version = device_version;
        return p;
    };

    auto sel = c.select(query);
    if (sel.refused) return finish(refuse(403, sel.reason, errc::device_refused));
    if (!sel.chosen) {
        if (sel.held_back) {
            auto p = text_reply(304, "", event_kind::refused, "304 " + sel.reason, errc::device_refused);
            p.headers.clear();
            return finish(p);
        }
        return finish(refuse(404, sel.reason, errc::file_not_found));
    }
    const auto& rel = *sel.chosen;
    auto offered = [&](response_plan p) {
        p.event.offered = rel.version;
        if (sel.held_back) p.event.decision += " (" + sel.reason + ")";
        return finish(std::move(p));
    };

    if (mode == "version") {
        auto p = text_reply(200, "", event_kind::asked, "200 version " + rel.version);
        p.headers.clear();
        p.headers.emplace_back("x-version", rel.version);
        p.headers.emplace_back("x-MD5", rel.app.md5);
        return offered(p);
    }
    if (mode == "spiffs") {
        if (!rel.fs) return offered(refuse(404, rel.title + " " + rel.version + " has no filesystem image", errc::file_not_found));
        auto p = body_reply(r, *rel.fs, true);
        if (p.status < 300) p.event.decision += " filesystem";
        return offered(p);
    }
    const bool device_8266 = family == release::chip_family::esp8266;
    const bool image_8266 = rel.facts.target == chip::esp8266;
    if (family != release::chip_family::any && device_8266 != image_8266)
        return offered(refuse(403,
                              "the image is for " + std::string(name(rel.facts.target)) + ", the device is an " +
                                  (device_8266 ? "esp8266" : "esp32"),
                              errc::chip_mismatch));
    if (auto md5 = h("sketch-md5"); md5 && lower(*md5) == rel.app.md5) {
        auto p = text_reply(304, "", event_kind::already_current, "304 running sketch MD5 is the release's");
        p.headers.clear();
        return offered(p);
    }
    if (auto sha = h("sketch-sha256"); sha && lower(*sha) == rel.app.sha256) {
        auto p = text_reply(304, "", event_kind::already_current, "304 running sketch SHA-256 is the release's");
        p.headers.clear();
        return offered(p);
    }
    if (!device_version.empty() && release::is_not_older(device_version, rel.version)) {
        auto p = text_reply(304, "", event_kind::already_current,
                            "304 runs " + device_version + ", not older than " + rel.version);
        p.headers.clear();
        return offered(p);
    }
    if (auto chip_size = number(h("chip-size")); chip_size && rel.facts.flash_size > *chip_size)
        return offered(refuse(403,
                              "the image needs " + rel.facts.flash_size_label + " of flash, the device has " +
                                  std::to_string(*chip_size) + " bytes",
                              errc::image_too_large));
    if (auto free_space = number(h("free-space")); free_space && rel.app.size() > *free_space)
        return offered(refuse(403,
                              "the image is " + std::to_string(rel.app.size()) + " bytes, the device has " +
                                  std::to_string(*free_space) + " bytes free",
                              errc::image_too_large));
    auto p = body_reply(r, rel.app, true);
    p.headers.emplace_back("x-version", rel.version);
    return offered(p);
}

}  // namespace

std::optional<std::vector<std::string>> path_segments(std::string_view target) {
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (target.empty() || target.front() != '/') return std::nullopt;
    std::string decoded;
    for (std::size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        if (c == '%') {
            if (i + 2 >= target.size()) return std::nullopt;
            unsigned v = 0;
            auto [p, ec] = std::from_chars(target.data() + i + 1, target.data() + i + 3, v, 16);
            if (ec != std::errc{} || p != target.data() + i + 3) return std::nullopt;
            c = static_cast<char>(v);
            i += 2;
        }
        if (c == '\0' || c == '\\') return std::nullopt;
        decoded.push_back(c);
    }
    std::vector<std::string> out;
    std::size_t start = 1;
    while (start <= decoded.size()) {
        auto slash = decoded.find('/', start);
        auto seg = decoded.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (seg == ".." || seg == ".") return std::nullopt;
        if (seg.empty() && slash != std::string::npos) return std::nullopt;  // "//": no absolute paths inside
        if (!seg.empty()) out.push_back(seg);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return out;
}

response_plan unreadable_request(bool too_large) {
    if (too_large) return refuse(431, "request header fields too large", errc::usage_error);
    return refuse(400, "malformed request", errc::usage_error);
}

response_plan decide(const request_facts& r, const release::catalog& c, const settings& options) {
    auto finish = [&](response_plan p) {
        p.event.request = r.method + " " + r.target;
        return p;
    };
    if (r.method != "GET" && r.method != "HEAD") {
        auto p = refuse(405, "method " + r.method + " not allowed", errc::usage_error);
        p.headers.emplace_back("Allow", "GET, HEAD");
        return finish(p);
    }
    auto segments = path_segments(r.target);
    if (!segments) return finish(refuse(400, "bad request path", errc::usage_error));
    if (r.auth == credentials::missing || r.auth == credentials::rejected) {
        auto p = refuse(401, r.auth == credentials::missing ? "credentials required" : "credentials rejected",
                        errc::auth_failed);
        p.headers.emplace_back("WWW-Authenticate", "Basic realm=\"otaflash\"");
        return finish(p);
    }
    std::string channel;
    auto channels = c.channels();
    if (segments->size() >= 2 && std::find(channels.begin(), channels.end(), segments->front()) != channels.end()) {
        channel = segments->front();
        segments->erase(segments->begin());
    }
    const auto& s = *segments;
    if (s.size() == 1 && s[0] == "firmware.bin") return finish(firmware(r, c, channel));
    if (s.size() == 2 && s[0] == "firmware" && s[1].ends_with(".bin")) {
        auto sha = s[1].substr(0, s[1].size() - 4);
        for (const auto& rel : c.releases()) {
            if (!rel.in_channel(channel)) continue;
            if (rel.app.sha256 == sha) {
                auto p = body_reply(r, rel.app, true);
                p.event.offered = rel.version;
                return finish(p);
            }
            if (rel.fs && rel.fs->sha256 == sha) {
                auto p = body_reply(r, *rel.fs, true);
                p.event.offered = rel.version;
                return finish(p);
            }
        }
        return finish(refuse(404, "no image " + s[1], errc::file_not_found));
    }
    if (s.size() == 1 && s[0] == "version") {
        const auto* rel = c.latest(channel);
        if (!rel) return finish(refuse(404, "no release in this channel", errc::file_not_found));
        auto p = text_reply(200, rel->version, event_kind::asked, "200 version " + rel->version);
        p.event.offered = rel->version;
        return finish(p);
    }
    if (s.size() == 1 && s[0] == "manifest.json") {
        auto list = latest_per_title(c, channel);
        if (list.empty()) return finish(refuse(404, "no release in this channel", errc::file_not_found));
        std::string body;
        for (const auto* rel : list) {
            if (!body.empty()) body += ",";
            body += "{\"type\":" + quoted(options.fota_type.value_or(rel->title)) + ",\"version\":" + quoted(rel->version) +
                    ",\"url\":" + quoted(image_url(r, channel, rel->app)) + "}";
        }
        if (list.size() > 1) body = "[" + body + "]";
        auto p = json_reply(body + "\n", "200 manifest " + list.front()->version);
        p.event.offered = list.front()->version;
        return finish(p);
    }
    if (s.size() == 2 && s[0] == "releases" && s[1] == "latest") {
        const auto* newest = c.latest(channel);
        if (!newest) return finish(refuse(404, "no release in this channel", errc::file_not_found));
        std::string assets;
        for (const auto& rel : c.releases()) {
            if (!rel.in_channel(channel) || rel.version != newest->version || rel.title != newest->title) continue;
            auto add = [&](const std::string& asset, const release::image_blob& blob) {
                if (!assets.empty()) assets += ",";
                assets += "{\"name\":" + quoted(asset) + ",\"size\":" + std::to_string(blob.size()) +
                          ",\"browser_download_url\":" + quoted(image_url(r, channel, blob)) + "}";
            };
            const std::string stem = rel.title + "-" + rel.version + "-" + std::string(name(rel.facts.target));
            add(stem + ".bin", rel.app);
            if (rel.fs) add(stem + "-fs.bin", *rel.fs);
        }
        auto body = "{\"tag_name\":" + quoted(newest->version) + ",\"name\":" + quoted(newest->title + " " + newest->version) +
                    ",\"assets\":[" + assets + "]}\n";
        auto p = json_reply(body, "200 latest " + newest->version);
        p.event.offered = newest->version;
        return finish(p);
    }
    return finish(refuse(404, "no such file", errc::file_not_found));
}

}  // namespace otaflash::proto::pull
