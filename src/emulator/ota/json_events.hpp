#pragma once
// The executable's standard output: one JSON object per device event, one per line, flushed
// (README "Emulated OTA device" documents the fields).

#include "emulator/ota/events.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace otaflash::emulator::ota {

// One line of JSON, without the newline. `device` ("127.0.0.1:8266") and `hostname` are added as
// fields when several devices share the output.
std::string to_json_line(const device_event& event, const std::string& device = {}, const std::string& hostname = {});

// The line that says the mDNS responder answers (after every device's ready line).
std::string mdns_ready_line(std::uint16_t port, const std::vector<std::string>& interfaces, std::size_t devices);

class json_lines_sink final : public event_sink {
public:
    // `on_update` runs after each `update` event is printed (the executable counts them for
    // --updates). With `name_device`, every line says which device it is from.
    explicit json_lines_sink(std::FILE* out, std::function<void()> on_update = {}, bool name_device = false)
        : out_(out), on_update_(std::move(on_update)), name_device_(name_device) {}
    void on_event(const device_event& event) override;

private:
    std::FILE* out_;
    std::function<void()> on_update_;
    bool name_device_;
    std::string device_;    // from this device's ready event
    std::string hostname_;  // likewise
};

}  // namespace otaflash::emulator::ota
