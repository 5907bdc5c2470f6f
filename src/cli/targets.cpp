#include "cli/targets.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace otaflash::cli {
namespace {

failure bad(const std::string& source, int line, const std::string& what) {
    std::string where = line > 0 ? source + ":" + std::to_string(line) : source;
    return make_failure(errc::target_invalid, where + ": " + what,
                        "see 'otaflash push --help' for the --targets formats");
}

result<void> set_field(fleet_target& t, std::string_view key, std::string value, const std::string& source, int line) {
    if (key == "label") t.label = std::move(value);
    else if (key == "password_env") t.password_env = std::move(value);
    else if (key == "password_file") t.password_file = std::move(value);
    else if (key == "chip") t.chip = std::move(value);
    else if (key == "board") t.board = std::move(value);
    else if (key == "password" || key == "auth")
        return bad(source, line, "passwords do not belong in a targets file; use password_env=VAR or password_file=PATH");
    else return bad(source, line, "unknown key '" + std::string(key) + "'");
    return {};
}

result<std::vector<fleet_target>> parse_json(std::string_view text, const std::string& source) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) return bad(source, 0, "not valid JSON");
    if (doc.is_object() && doc.contains("devices")) doc = doc["devices"];
    if (!doc.is_array()) return bad(source, 0, "expected an array of devices or {\"devices\": [...]}");
    std::vector<fleet_target> out;
    int index = 0;
    for (const auto& item : doc) {
        ++index;
        const std::string where = "device #" + std::to_string(index);
        if (!item.is_object() || !item.contains("host") || !item["host"].is_string())
            return bad(source, 0, where + " has no \"host\" string");
        fleet_target t;
        t.target = item["host"].get<std::string>();
        for (const auto& [key, value] : item.items()) {
            if (key == "host") continue;
            if (key == "port") {
                if (!value.is_number_unsigned() || value.get<unsigned>() == 0 || value.get<unsigned>() > 65535)
                    return bad(source, 0, where + ": \"port\" must be a number from 1 to 65535");
                const bool v6 = t.target.find(':') != std::string::npos && t.target.front() != '[';
                t.target = (v6 ? "[" + t.target + "]" : t.target) + ":" + std::to_string(value.get<unsigned>());
                continue;
            }
            if (!value.is_string()) return bad(source, 0, where + ": \"" + key + "\" must be a string");
            if (auto r = set_field(t, key, value.get<std::string>(), source, 0); !r)
                return make_failure(r.error().code, r.error().message + " (" + where + ")", r.error().hint);
        }
        out.push_back(std::move(t));
    }
    return out;
}

result<std::vector<fleet_target>> parse_lines(std::string_view text, const std::string& source) {
    std::vector<fleet_target> out;
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        fleet_target t;
        t.line = line_no;
        std::size_t pos = 0;
        bool first = true;
        while (true) {
            pos = line.find_first_not_of(" \t\r", pos);
            if (pos == std::string_view::npos) break;
            auto end = line.find_first_of(" \t\r", pos);
            std::string_view word = line.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
            pos = end == std::string_view::npos ? line.size() : end;
            if (first) {
                t.target = std::string(word);
                first = false;
                continue;
            }
            auto eq = word.find('=');
            if (eq == std::string_view::npos || eq == 0) return bad(source, line_no, "expected key=value, got '" + std::string(word) + "'");
            if (auto r = set_field(t, word.substr(0, eq), std::string(word.substr(eq + 1)), source, line_no); !r)
                return r.error();
        }
        if (!first) out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

result<std::vector<fleet_target>> parse_targets(std::string_view text, const std::string& source) {
    auto first = text.find_first_not_of(" \t\r\n");
    const bool json = first != std::string_view::npos && (text[first] == '[' || text[first] == '{');
    auto parsed = json ? parse_json(text, source) : parse_lines(text, source);
    if (!parsed) return parsed;
    if (parsed->empty()) return bad(source, 0, "lists no devices");
    std::set<std::string> labels;
    for (auto& t : *parsed) {
        if (t.label.empty()) t.label = t.target;
        if (!labels.insert(t.label).second)
            return bad(source, t.line, "the label '" + t.label + "' is used twice (labels name devices in the summary)");
    }
    return parsed;
}

}  // namespace otaflash::cli
