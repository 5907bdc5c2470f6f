#include "emulator/mqtt/json_events.hpp"

#include <nlohmann/json.hpp>

namespace otaflash::emulator::mqtt {
namespace {

using json = nlohmann::ordered_json;

json optional_text(const std::optional<std::string>& text) { return text ? json(*text) : json(nullptr); }

struct to_json_visitor {
    json operator()(const connected_event& e) const {
        return {{"event", "connected"}, {"device", e.device}, {"again", e.again}};
    }
    json operator()(const lost_event& e) const { return {{"event", "lost"}, {"device", e.device}, {"why", e.why}}; }
    json operator()(const info_event& e) const {
        json j{{"event", "info"}, {"device", e.device}, {"attempt", e.attempt}, {"found", e.found}};
        if (e.found) {
            j["title"] = e.title;
            j["version"] = e.version;
            j["size"] = e.size;
            j["crc32"] = e.crc32;
            j["framing"] = e.framing;
        }
        return j;
    }
    json operator()(const retry_event& e) const {
        return {{"event", "retry"}, {"device", e.device}, {"chunk", e.chunk}, {"retry", e.retry}, {"reason", e.reason}};
    }
    json operator()(const fault_event& e) const {
        return {{"event", "fault"}, {"device", e.device}, {"fault", e.fault}, {"chunks", e.chunks}};
    }
    json operator()(const result_event& e) const {
        return {{"event", "result"}, {"device", e.device},   {"code", e.code},         {"message", e.message},
                {"attempts", e.attempts}, {"bytes", e.bytes}, {"chunks", e.chunks},    {"retries", e.retries},
                {"crc32", optional_text(e.crc32)},            {"file", optional_text(e.file)}, {"ms", e.ms}};
    }
};

}  // namespace

std::string to_json_line(const device_event& event) {
    return std::visit(to_json_visitor{}, event).dump(-1, ' ', false, json::error_handler_t::replace);
}

void json_lines_sink::on_event(const device_event& event) {
    const std::string line = to_json_line(event) + "\n";
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
}

}  // namespace otaflash::emulator::mqtt
