#include "emulator/ota/json_events.hpp"

#include "emulator/ota/listener.hpp"

#include <nlohmann/json.hpp>

namespace otaflash::emulator::ota {
namespace {

using json = nlohmann::ordered_json;

json optional_text(const std::optional<std::string>& text) { return text ? json(*text) : json(nullptr); }

struct to_json_visitor {
    json operator()(const ready_event& e) const {
        return {{"event", "ready"}, {"kind", e.kind},         {"address", e.address},
                {"port", e.port},   {"hostname", e.hostname}, {"board", e.board}};
    }
    json operator()(const invitation_event& e) const {
        return {{"event", "invitation"}, {"from", e.from}, {"command", e.command}, {"size", e.size},
                {"md5", e.md5}, {"port", e.host_port}};
    }
    json operator()(const auth_event& e) const { return {{"event", "auth"}, {"ok", e.ok}, {"scheme", e.scheme}}; }
    json operator()(const update_event& e) const {
        return {{"event", "update"},       {"ok", e.ok},         {"command", e.command},
                {"size", e.size},          {"received", e.received}, {"md5", optional_text(e.md5)},
                {"error", optional_text(e.error)}, {"file", optional_text(e.file)}, {"stage", e.stage},
                {"detail", e.detail}};
    }
};

}  // namespace

std::string to_json_line(const device_event& event, const std::string& device, const std::string& hostname) {
    json line = std::visit(to_json_visitor{}, event);
    if (!device.empty()) line["device"] = device;
    if (!hostname.empty()) line["hostname"] = hostname;
    // Device texts are not always UTF-8 (end-error, garbage from a host): replace, never throw.
    return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

void json_lines_sink::on_event(const device_event& event) {
    if (const auto* ready = std::get_if<ready_event>(&event); ready && name_device_) {
        device_ = to_string(peer{ready->address, ready->port});
        hostname_ = ready->hostname;
    }
    const std::string line = to_json_line(event, device_, hostname_) + "\n";
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
    if (std::holds_alternative<update_event>(event) && on_update_) on_update_();
}

std::string mdns_ready_line(std::uint16_t port, const std::vector<std::string>& interfaces, std::size_t devices) {
    return json{{"event", "mdns"}, {"port", port}, {"interfaces", interfaces}, {"devices", devices}}.dump();
}

}  // namespace otaflash::emulator::ota
