#pragma once
// In-process `serve --mqtt` engine (net::mqtt_ota_server) on its own event loop, for tests that
// drive emulated devices (otaflash-mqtt-device) through a private broker.

#include "fixed_releases.hpp"
#include "mosquitto_broker.hpp"

#include <otaflash/net/event_loop.hpp>
#include <otaflash/net/mqtt_ota_server.hpp>
#include <otaflash/util/crc32.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace otaflash::test {

// Records everything the server reports.
struct recording_observer : net::mqtt_ota_observer {
    int ready = 0;
    int lost = 0;
    std::optional<failure> fatal;
    std::vector<proto::mqtt_ota::responder_event> events;
    std::map<std::string, int> results;              // device -> last final code
    std::map<std::string, int> chunk_answers;        // "device/request/index" -> answers sent
    std::function<void()> changed;

    void on_ready(bool) override { ++ready, notify(); }
    void on_connection_lost(std::string_view) override { ++lost, notify(); }
    void on_fatal(const failure& f) override { fatal = f, notify(); }
    void on_device(const proto::mqtt_ota::responder_event& e) override {
        events.push_back(e);
        if (const auto* s = std::get_if<proto::mqtt_ota::state_reported>(&e); s && s->report.final())
            results[s->device] = s->report.code.value_or(0);
        if (const auto* c = std::get_if<proto::mqtt_ota::chunk_served>(&e))
            ++chunk_answers[c->device + "/" + std::to_string(c->index)];
        notify();
    }
    void notify() {
        if (changed) changed();
    }
};

// The exit status of `proc` once it ends by itself (within `limit`); SIGTERM after that.
inline int exit_status(background_process& proc, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (proc.running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return proc.stop().exit_code;
}

}  // namespace otaflash::test
