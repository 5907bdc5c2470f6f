#include "rom_device_process.hpp"

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
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + timeout;
    while (clock::now() < deadline) {
        auto e = next_event(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
        if (!e) return std::nullopt;  // the deadline passed, or the emulator ended
        if (e->at("event") == name) return e;
    }
    return std::nullopt;
}

}  // namespace otaflash::test
