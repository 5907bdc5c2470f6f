// The MQTT OTA engine (net::mqtt_ota_server, libmosquitto on the event loop) against emulated
// devices through a real mosquitto on loopback.

#include "mqtt/mqtt_harness.hpp"

#include "json_events.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace otaflash;
using namespace otaflash::test;
using namespace std::chrono_literals;

namespace {

net::mqtt_ota_server_options server_options(const mosquitto_broker& broker, std::string id = "otaflash-test") {
    net::mqtt_ota_server_options o;
    o.client.broker = *proto::mqtt_ota::parse_broker_url(broker.url());
    o.client.client_id = std::move(id);
    o.connect_deadline = 10s;
    return o;
}

// Runs `loop` until `done()` holds or `limit` passes; the server is stopped either way.
bool run_until(net::event_loop& loop, net::mqtt_ota_server& server, recording_observer& seen,
               const std::function<bool()>& done, std::chrono::seconds limit) {
    bool ok = false;
    net::event_loop::timer_id limit_timer = 0;
    auto finish = [&] {
        loop.cancel_timer(limit_timer);
        server.stop();
    };
    seen.changed = [&] {
        if (!ok && done()) {
            ok = true;
            loop.call_after(50ms, finish);
        }
    };
    limit_timer = loop.call_after(limit, finish);
    loop.run();
    seen.changed = nullptr;
    return ok;
}

std::vector<std::string> device_args(const mosquitto_broker& broker, std::vector<std::string> more) {
    std::vector<std::string> argv{bin_path("otaflash-mqtt-device"), "--broker", broker.url(), "--reply-timeout", "2000"};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
}

}  // namespace

TEST(MqttServer, OneDeviceGetsTheImageByteForByte) {
    mosquitto_broker broker;
    temp_dir tmp;
    const bytes image = random_bytes(50 * 1024 + 17, 1);
    fixed_releases releases;
    releases.add("s31-nb", "v1.6.0", image);
    net::event_loop loop;
    recording_observer seen;
    net::mqtt_ota_server server(loop, server_options(broker), releases, seen, null_log());
    ASSERT_TRUE(server.start());
    std::unique_ptr<background_process> dev;
    seen.changed = nullptr;
    // Start the device once the server is subscribed.
    bool started = false;
    auto maybe_start = [&] {
        if (!started && seen.ready) {
            started = true;
            dev = std::make_unique<background_process>(
                device_args(broker, {"--id", "node-17", "--title", "s31-nb", "--version", "v1.5.0", "--out", tmp.file("got.bin")}));
        }
        return seen.results.count("node-17") > 0;
    };
    ASSERT_TRUE(run_until(loop, server, seen, maybe_start, 60s)) << broker.log();
    EXPECT_EQ(seen.results["node-17"], 100);
    auto event = next_json_event(*dev, "result", 20s);
    ASSERT_TRUE(event);
    EXPECT_EQ((*event)["code"], 100);
    EXPECT_EQ(slurp(tmp.file("got.bin")), image);
    // Every chunk was asked once and answered once: 51 chunks.
    EXPECT_EQ(seen.chunk_answers.size(), 51u);
    EXPECT_EQ(exit_status(*dev, 10s), 0);
}
