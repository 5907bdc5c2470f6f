#include "cli/fleet_report.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/util/endpoint_text.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

namespace otaflash::cli {
namespace {

using nlohmann::json;

std::string text_or(const json& j, const char* key, std::string fallback) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

long long number_or(const json& j, const char* key, long long fallback = 0) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<long long>() : fallback;
}

std::string label_of(const device_outcome& d) {
    std::string label = text_or(d.result, "label", "");
    return label.empty() ? text_or(d.result, "target", "?") : label;
}

std::string address_of(const device_outcome& d) {
    const std::string address = text_or(d.result, "address", "");
    if (address.empty()) return text_or(d.result, "target", "-");
    auto port = d.result.find("port");
    return port != d.result.end() && port->is_number() ? endpoint_text(address, port->get<std::uint16_t>())
                                                       : bracketed(address);
}

std::string seconds(long long ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
    return buf;
}

std::string rate(long long bytes_per_second) {
    if (bytes_per_second <= 0) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f KiB/s", static_cast<double>(bytes_per_second) / 1024.0);
    return buf;
}

// The device's own last words: its TCP verdict, else its UDP answer.
std::string device_words(const device_outcome& d) {
    auto device = d.result.find("device");
    std::string words = device == d.result.end() ? "" : text_or(*device, "result", text_or(*device, "reply", ""));
    for (auto& c : words)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (words.size() > 48) words = words.substr(0, 45) + "...";
    return words.empty() ? "-" : words;
}

std::string class_of(const device_outcome& d) {
    if (!d.error) return "-";
    return std::string{condition_name(condition_of(d.error->code))} + " (" + std::to_string(exit_code_for(d.error->code)) + ")";
}

}  // namespace

std::optional<failure> fleet_failure(const std::vector<device_outcome>& devices) {
    std::size_t updated = 0;
    std::vector<const device_outcome*> failed;
    for (const auto& d : devices) {
        if (d.status == device_status::updated) ++updated;
        else if (d.status == device_status::failed && d.error) failed.push_back(&d);
    }
    if (updated == devices.size()) return std::nullopt;

    std::string names;
    for (const auto* d : failed) {
        if (names.size() > 200) {
            names += ", ...";
            break;
        }
        names += (names.empty() ? "" : ", ") + label_of(*d) + " (" + std::string{code_name(d->error->code)} + ")";
    }
    const bool one_class = !failed.empty() && std::all_of(failed.begin(), failed.end(), [&](const device_outcome* d) {
        return condition_of(d->error->code) == condition_of(failed.front()->error->code);
    });
    if (updated == 0 && one_class) {
        const failure& first = *failed.front()->error;
        if (failed.size() == 1) return make_failure(first.code, label_of(*failed.front()) + ": " + first.message, first.hint);
        const bool one_code = std::all_of(failed.begin(), failed.end(),
                                          [&](const device_outcome* d) { return d->error->code == first.code; });
        return make_failure(first.code,
                            "no device was updated: " + std::to_string(failed.size()) + " failed (" +
                                std::string{condition_name(condition_of(first.code))} + "): " + names,
                            one_code ? first.hint : "the table above gives each device's reason");
    }
    const std::size_t not_updated = devices.size() - updated;
    return make_failure(errc::some_targets_failed,
                        std::to_string(not_updated) + " of " + std::to_string(devices.size()) +
                            " devices were not updated" + (names.empty() ? std::string{} : ": " + names),
                        "the table above gives each device's reason; with --json, "
                        "'.result.devices[] | select(.status != \"updated\") | .target' lists them to push again");
}

std::vector<std::string> summary_table(const std::vector<device_outcome>& devices) {
    using row = std::array<std::string, 8>;
    std::vector<row> rows{{"DEVICE", "ADDRESS", "RESULT", "CLASS", "BYTES", "TIME", "RATE", "DEVICE SAID"}};
    for (const auto& d : devices)
        rows.push_back({label_of(d), address_of(d), std::string{status_name(d.status)}, class_of(d),
                        std::to_string(number_or(d.result, "bytes_sent")), seconds(number_or(d.result, "duration_ms")),
                        rate(number_or(d.result, "throughput_bps")), device_words(d)});
    std::array<std::size_t, 8> width{};
    for (const auto& r : rows)
        for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    std::vector<std::string> out;
    for (const auto& r : rows) {
        std::string line;
        for (std::size_t c = 0; c < r.size(); ++c) {
            const bool numeric = c == 4 || c == 5 || c == 6;
            const std::string pad(width[c] - r[c].size(), ' ');
            if (c + 1 == r.size()) line += r[c];
            else line += (numeric ? pad + r[c] : r[c] + pad) + "  ";
        }
        out.push_back(std::move(line));
    }
    return out;
}

std::string totals_line(const std::vector<device_outcome>& devices, long long duration_ms) {
    std::map<device_status, std::size_t> count;
    for (const auto& d : devices) ++count[d.status];
    std::string line = std::to_string(devices.size()) + (devices.size() == 1 ? " device: " : " devices: ") +
                       std::to_string(count[device_status::updated]) + " updated";
    for (auto s : {device_status::failed, device_status::cancelled, device_status::skipped})
        if (count[s] > 0) line += ", " + std::to_string(count[s]) + " " + std::string{status_name(s)};
    return line + " in " + seconds(duration_ms);
}

json totals_json(const std::vector<device_outcome>& devices, long long duration_ms) {
    json by_class = json::object();
    long long bytes = 0;
    std::map<device_status, std::size_t> count;
    for (const auto& d : devices) {
        ++count[d.status];
        bytes += number_or(d.result, "bytes_sent");
        if (d.error && d.status == device_status::failed) {
            auto& n = by_class[std::string{condition_name(condition_of(d.error->code))}];
            n = n.is_null() ? 1 : n.get<int>() + 1;
        }
    }
    return {{"devices", devices.size()},
            {"updated", count[device_status::updated]},
            {"failed", count[device_status::failed]},
            {"cancelled", count[device_status::cancelled]},
            {"skipped", count[device_status::skipped]},
            {"failed_by_class", by_class},
            {"bytes_sent", bytes},
            {"duration_ms", duration_ms}};
}

}  // namespace otaflash::cli
