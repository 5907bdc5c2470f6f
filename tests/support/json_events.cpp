#include "json_events.hpp"

namespace otaflash::test {

std::optional<nlohmann::json> next_json_event(background_process& proc, const std::string& name,
                                              std::chrono::milliseconds timeout, std::vector<nlohmann::json>* seen) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto line = proc.read_line(left);
        if (!line) return std::nullopt;
        auto event = nlohmann::json::parse(*line, nullptr, false);
        if (!event.is_object()) continue;
        if (seen) seen->push_back(event);
        if (event.value("event", "") == name) return event;
    }
}

}  // namespace otaflash::test
