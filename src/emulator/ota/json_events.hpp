#pragma once
// The executable's standard output: one JSON object per device event, one per line, flushed
// (README "Emulated OTA device" documents the fields).

#include "emulator/ota/events.hpp"

#include <cstdio>
#include <functional>
#include <string>

namespace otaflash::emulator::ota {

std::string to_json_line(const device_event& event);

class json_lines_sink final : public event_sink {
public:
    // `on_update` runs after each `update` event is printed (the executable counts them for --updates).
    explicit json_lines_sink(std::FILE* out, std::function<void()> on_update = {})
        : out_(out), on_update_(std::move(on_update)) {}
    void on_event(const device_event& event) override;

private:
    std::FILE* out_;
    std::function<void()> on_update_;
};

}  // namespace otaflash::emulator::ota
