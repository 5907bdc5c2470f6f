#include "emulator/pull/json_events.hpp"

#include <nlohmann/json.hpp>

namespace otaflash::emulator::pull {
namespace {

using json = nlohmann::ordered_json;

json text_or_null(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

struct to_json_visitor {
    json operator()(const request_event& e) const {
        return {{"event", "request"}, {"device", e.device}, {"method", e.method}, {"url", e.url}, {"status", e.status},
                {"range", text_or_null(e.range)}, {"bytes", e.bytes}, {"cut", e.cut}};
    }
    json operator()(const result_event& e) const {
        return {{"event", "result"},   {"device", e.device},
                {"outcome", e.outcome}, {"code", e.code ? json(code_name(*e.code)) : json(nullptr)},
                {"detail", e.detail},   {"reason", text_or_null(e.reason)},
                {"offered", text_or_null(e.offered)}, {"bytes", e.bytes},
                {"md5", text_or_null(e.md5)}, {"requests", e.requests},
                {"resumed", e.resumed}, {"file", text_or_null(e.file)},
                {"ms", e.ms}};
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

}  // namespace otaflash::emulator::pull
