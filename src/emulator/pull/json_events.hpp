#pragma once
// The executable's standard output: one JSON object per device event, one per line, flushed.

#include "emulator/pull/events.hpp"

#include <cstdio>
#include <string>

namespace otaflash::emulator::pull {

std::string to_json_line(const device_event& event);

class json_lines_sink final : public event_sink {
public:
    explicit json_lines_sink(std::FILE* out) : out_(out) {}
    void on_event(const device_event& event) override;

private:
    std::FILE* out_;
};

}  // namespace otaflash::emulator::pull
