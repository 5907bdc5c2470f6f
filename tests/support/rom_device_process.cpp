#include "rom_device_process.hpp"

#include "json_events.hpp"

#include <stdexcept>

namespace otaflash::test {
namespace {

std::vector<std::string> command_line(std::vector<std::string> options) {
    options.insert(options.begin(), bin_path("otaflash-rom-device"));
    return options;
}

}  // namespace

rom_device_process::rom_device_process(std::vector<std::string> options) : proc_(command_line(std::move(options))) {
    auto line = proc_.read_line(std::chrono::seconds(10));
    if (!line) throw std::runtime_error("otaflash-rom-device sent no ready event; stderr: " + proc_.stop().err);
    ready = nlohmann::json::parse(*line);
    pty = ready.at("pty").get<std::string>();
}

std::optional<nlohmann::json> rom_device_process::next_event(std::chrono::milliseconds timeout) {
    auto line = proc_.read_line(timeout);
    if (!line) return std::nullopt;
    return nlohmann::json::parse(*line);
}

std::optional<nlohmann::json> rom_device_process::wait_event(const std::string& name, std::chrono::milliseconds timeout) {
    return next_json_event(proc_, name, timeout);
}

}  // namespace otaflash::test
