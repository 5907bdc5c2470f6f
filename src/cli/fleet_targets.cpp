#include "cli/fleet_targets.hpp"

#include <otaflash/util/endpoint_text.hpp>

#include <algorithm>
#include <cctype>
#include <set>

namespace otaflash::cli {
namespace {

std::string where(const device_sources& s, const fleet_target& t) {
    return t.line > 0 ? s.listed_from + ":" + std::to_string(t.line) : s.listed_from + " (" + t.label + ")";
}

result<resolved_password> listed_password(const device_sources& s, const fleet_target& t,
                                          const resolved_password& fallback, const password_readers& read,
                                          const env_lookup& env) {
    if (!t.password_env.empty() && !t.password_file.empty())
        return make_failure(errc::target_invalid, where(s, t) + ": give password_env or password_file, not both",
                            "keep the one that holds this device's password");
    password_inputs inputs;
    password_source source = password_source::none;
    if (!t.password_env.empty()) {
        auto value = env(t.password_env);
        if (!value || value->empty())
            return make_failure(errc::config_invalid,
                                where(s, t) + ": the environment variable " + t.password_env + " (password_env of " +
                                    t.label + ") is not set",
                                "export " + t.password_env + " with the device's password before the push");
        inputs.env = std::move(value);
        source = password_source::target_env;
    } else if (!t.password_file.empty()) {
        inputs.file = t.password_file;
        source = password_source::target_file;
    } else {
        return fallback;
    }
    auto own = resolve_password(inputs, read);
    if (!own) {
        failure f = std::move(own).error();
        f.message = where(s, t) + ": " + f.message;
        return f;
    }
    own->source = source;
    return own;
}

result<net::target> parse_with_port(const std::string& text, std::optional<std::uint16_t> port) {
    auto t = net::parse_target(text);
    if (!t) return t;
    if (!t->port) t->port = port;
    return t;
}

std::vector<std::uint16_t> ports_of(const net::target& t) {
    return t.port ? std::vector<std::uint16_t>{*t.port} : default_device_ports;
}

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
}

bool is_the_device(const push_device& d, const mdns::service_instance& s) {
    if (lowercase(d.target.host) == lowercase(s.host)) return true;
    const bool at_address = std::find(s.addresses.begin(), s.addresses.end(), d.target.host) != s.addresses.end();
    return at_address && (!d.target.port || *d.target.port == s.port);
}

}  // namespace

std::vector<std::string> check_boards(std::vector<push_device>& devices,
                                      const std::vector<mdns::service_instance>& advertised) {
    std::vector<std::string> warnings;
    for (auto& d : devices) {
        if (d.expected_board.empty() || d.refused) continue;
        auto it = std::find_if(advertised.begin(), advertised.end(),
                               [&](const mdns::service_instance& s) { return is_the_device(d, s); });
        if (it == advertised.end()) {
            warnings.push_back(d.label + ": board=" + d.expected_board +
                               " not checked: the device did not answer mDNS (raise --mdns-timeout, or check "
                               "--interface)");
            continue;
        }
        auto board = it->txt.find("board");
        const std::string says = board == it->txt.end() ? std::string{} : board->second;
        d.facts["board_advertised"] = board == it->txt.end() ? nlohmann::json(nullptr) : nlohmann::json(says);
        if (says == d.expected_board) continue;
        d.refused = make_failure(
            errc::board_mismatch,
            d.label + " (" + it->name + ".local) advertises " + (says.empty() ? "no board" : "board=" + says) +
                " but the targets file says board=" + d.expected_board + ": not contacted",
            "check that the file's line names the right device and board; the image may be for another board");
    }
    return warnings;
}

result<std::vector<push_device>> fleet_devices(const device_sources& s, const resolved_password& fallback,
                                               const password_readers& read, const env_lookup& env) {
    std::vector<push_device> out;
    for (const auto& text : s.arguments) {
        auto t = net::parse_target(text);
        if (!t) return std::move(t).error();
        if (s.port && t->port && *t->port != *s.port)
            return make_failure(errc::usage_error,
                                "the target " + text + " says port " + std::to_string(*t->port) + " and --port says " +
                                    std::to_string(*s.port),
                                "give the port once");
        if (!t->port) t->port = s.port;
        push_device d;
        d.label = text;
        d.target_text = text;
        d.target = *t;
        d.ports = ports_of(*t);
        d.password = fallback;
        out.push_back(std::move(d));
    }
    for (const auto& entry : s.listed) {
        auto t = parse_with_port(entry.target, s.port);
        if (!t) return make_failure(errc::target_invalid, where(s, entry) + ": " + t.error().message, t.error().hint);
        auto password = listed_password(s, entry, fallback, read, env);
        if (!password) return std::move(password).error();
        push_device d;
        d.label = entry.label;
        d.target_text = entry.target;
        d.target = *t;
        d.ports = ports_of(*t);
        d.password = std::move(*password);
        if (!entry.chip.empty()) d.facts["chip"] = entry.chip;
        if (!entry.board.empty()) d.facts["board"] = entry.board;
        d.expected_board = entry.board;
        out.push_back(std::move(d));
    }
    for (const auto& found : s.discovered) {
        push_device d;
        d.label = found.name;
        d.password = fallback;
        d.facts = {{"found_by", "mdns"}, {"hostname", found.host}};
        if (auto board = found.txt.find("board"); board != found.txt.end()) d.facts["board"] = board->second;
        if (found.resolved()) {
            d.target = {found.addresses.front(), found.port};
            d.target_text = endpoint_text(found.addresses.front(), found.port);
            d.ports = {found.port};
        } else {
            d.target = {found.host.empty() ? found.name + ".local" : found.host, std::nullopt};
            d.target_text = d.target.host;
            d.ports = default_device_ports;
            d.refused = make_failure(errc::host_not_found,
                                     found.name + " answered the mDNS browse but not with its address and port",
                                     "try again, or push to its address directly");
        }
        out.push_back(std::move(d));
    }
    std::set<std::string> labels;
    for (const auto& d : out)
        if (!labels.insert(d.label).second)
            return make_failure(errc::target_invalid, "the device '" + d.label + "' is given twice",
                                "list each device once (labels name devices in the summary)");
    return out;
}

}  // namespace otaflash::cli
