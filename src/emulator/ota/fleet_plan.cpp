#include "emulator/ota/fleet_plan.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

namespace otaflash::emulator::ota {
namespace {

constexpr unsigned max_fleet = 65536;

// %d → index, %% → %.
result<std::string> expand(const std::string& pattern, std::size_t index, const char* what) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%') {
            out.push_back(pattern[i]);
            continue;
        }
        const char next = i + 1 < pattern.size() ? pattern[i + 1] : '\0';
        if (next == 'd') out += std::to_string(index);
        else if (next == '%') out.push_back('%');
        else
            return make_failure(errc::usage_error, std::string(what) + " '" + pattern + "' has a lone or unknown '%'",
                                "%d stands for the device's index in the fleet, %% for a '%'");
        ++i;
    }
    return out;
}

result<void> check_hostname(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-' &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                    });
    if (!ok)
        return make_failure(errc::usage_error, "hostname '" + name + "' is not a usable mDNS name",
                            "use 1-63 letters, digits, '-' or '_' (no dots, no '.local'), e.g. hostname=esp-%d");
    return {};
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

result<spec_items> split_spec(std::string_view spec) {
    spec_items items;
    if (spec.empty()) return items;  // one device with the defaults
    std::string item;
    bool escaped = false;
    auto finish = [&]() -> result<void> {
        const auto eq = item.find('=');
        std::string key = item.substr(0, eq);
        if (key.empty())
            return make_failure(errc::usage_error, "an empty item", "write KEY=VALUE items separated by commas, e.g. count=10,kind=esp32");
        items.emplace_back(std::move(key), eq == std::string::npos ? std::string{} : item.substr(eq + 1));
        item.clear();
        return {};
    };
    for (char c : spec) {
        if (escaped) {
            item.push_back(c);
            escaped = false;
        } else if (c == '\\') {
            escaped = true;
        } else if (c == ',') {
            if (auto done = finish(); !done) return std::move(done).error();
        } else {
            item.push_back(c);
        }
    }
    if (escaped) return make_failure(errc::usage_error, "ends with a lone backslash", "a backslash takes the next character as it is");
    if (auto done = finish(); !done) return std::move(done).error();
    return items;
}

std::string shown_spec(std::string_view spec) {
    auto items = split_spec(spec);
    if (!items || std::none_of(items->begin(), items->end(), [](const auto& kv) { return kv.first == "password"; }))
        return std::string(spec);
    std::string shown;
    for (const auto& [key, value] : *items) {
        if (!shown.empty()) shown.push_back(',');
        shown += key == "password" ? key + "=***" : value.empty() ? key : key + "=" + value;
    }
    return shown;
}

result<device_group> parse_group(std::string_view spec, const device_settings& defaults) {
    auto items = split_spec(spec);
    if (!items) return std::move(items).error();
    device_group group{defaults, 1, {}};
    if (std::any_of(items->begin(), items->end(), [](const auto& kv) { return kv.first == "fault"; }))
        group.settings.faults.clear();
    bool counted = false;
    for (const auto& [key, value] : *items) {
        if (key == "count") {
            unsigned n = 0;
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (counted || value.empty() || ec != std::errc{} || ptr != value.data() + value.size() || n == 0 ||
                n > max_fleet)
                return make_failure(errc::usage_error, "count=" + value + " is not a number of devices (1-" +
                                            std::to_string(max_fleet) + ")" + (counted ? " or is given twice" : ""),
                                  "give count=N once per SPEC");
            group.count = n;
            counted = true;
            continue;
        }
        if (auto set = apply_setting(group.settings, key, value); !set)
            return std::move(set).error();
    }
    return group;
}

std::vector<fleet_line> fleet_file_specs(std::string_view text) {
    std::vector<fleet_line> specs;
    unsigned number = 0;
    while (!text.empty()) {
        ++number;
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        specs.push_back({number, std::string(line)});
    }
    return specs;
}

result<std::vector<device_config>> plan_fleet(const std::vector<device_group>& groups, spread_mode spread) {
    namespace ip = boost::asio::ip;
    std::uint64_t total = 0;
    for (const auto& g : groups) total += g.count;
    if (total == 0) return make_failure(errc::usage_error, "no devices to run", "give --count N or --devices SPEC");
    if (total > max_fleet)
        return make_failure(errc::usage_error, std::to_string(total) + " devices are more than one process runs",
                            "run at most " + std::to_string(max_fleet) + " per process");

    std::map<std::string, std::set<std::uint32_t>> ports_taken;  // by address
    std::set<std::uint32_t> addresses_taken;
    std::map<std::string, std::size_t> hostnames;  // lowercase → index
    std::vector<device_config> fleet;
    for (const auto& group : groups) {
        auto base = resolve(group.settings);
        if (!base) {
            failure error = std::move(base).error();
            if (!group.origin.empty()) error.message = group.origin + ": " + error.message;
            return error;
        }
        boost::system::error_code ec;
        const auto first_address = ip::make_address(base->bind_address, ec);
        if (ec)
            return make_failure(errc::usage_error, "bind " + base->bind_address + " is not an IP address",
                                "give an address such as 127.0.0.1 or ::1");
        const std::uint32_t first_port = base->port.value_or(traits(base->kind).default_port);
        if (spread == spread_mode::address && total > 1 && !first_address.is_v4())
            return make_failure(errc::usage_error, "spreading devices over addresses needs an IPv4 bind address",
                                "e.g. --bind 127.0.0.1 --spread address, or --spread port for " + base->bind_address);

        for (unsigned i = 0; i < group.count; ++i) {
            const std::size_t index = fleet.size();
            device_config one = *base;
            if (spread == spread_mode::port && first_port != 0) {
                auto& taken = ports_taken[one.bind_address];
                std::uint32_t port = first_port;
                while (taken.count(port)) ++port;
                if (port > 65535)
                    return make_failure(errc::usage_error,
                                        "no port left on " + one.bind_address + " after " + std::to_string(first_port),
                                        "start lower (port=N), use port=0, or --spread address");
                taken.insert(port);
                one.port = static_cast<std::uint16_t>(port);
            } else if (spread == spread_mode::address && total > 1) {
                std::uint64_t address = first_address.to_v4().to_uint();
                while (addresses_taken.count(static_cast<std::uint32_t>(address))) ++address;
                if (address > 0xFFFFFFFFu)
                    return make_failure(errc::usage_error, "no IPv4 address left after " + one.bind_address,
                                        "start from a lower bind address");
                addresses_taken.insert(static_cast<std::uint32_t>(address));
                one.bind_address = ip::make_address_v4(static_cast<std::uint32_t>(address)).to_string();
                one.port = static_cast<std::uint16_t>(first_port);
            }

            if (!one.hostname.empty()) {
                auto name = expand(one.hostname, index, "hostname");
                if (!name) return std::move(name).error();
                if (auto ok = check_hostname(*name); !ok) return std::move(ok).error();
                auto [at, fresh] = hostnames.emplace(lower(*name), index);
                if (!fresh)
                    return make_failure(errc::usage_error,
                                        "devices " + std::to_string(at->second) + " and " + std::to_string(index) +
                                            " would both be called " + *name,
                                        "put %d in the hostname pattern, e.g. hostname=" + *name + "-%d");
                one.hostname = std::move(*name);
            }
            if (!one.out_file.empty()) {
                auto out = expand(one.out_file, index, "out");
                if (!out) return std::move(out).error();
                one.out_file = std::move(*out);
            }
            fleet.push_back(std::move(one));
        }
    }

    std::map<std::string, unsigned> writers;
    for (const auto& d : fleet)
        if (!d.out_file.empty()) ++writers[d.out_file];
    for (std::size_t i = 0; i < fleet.size(); ++i)
        if (!fleet[i].out_file.empty() && writers[fleet[i].out_file] > 1) fleet[i].out_file += "." + std::to_string(i);
    return fleet;
}

}  // namespace otaflash::emulator::ota
