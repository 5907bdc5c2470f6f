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
               const std::function<bool()>& done, std::chrono::seconds limit, net::mqtt_ota_server* sibling = nullptr) {
    bool ok = false;
    net::event_loop::timer_id limit_timer = 0;
    auto finish = [&] {
        loop.cancel_timer(limit_timer);
        server.stop();
        if (sibling) sibling->stop();
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
    std::vector<std::string> argv{bin_path("otaflash-mqtt-device"), "--broker", broker.url(), "--reply-timeout", "10000"};
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

namespace {

// A server on `broker` started with one release of `image`; devices start once it is subscribed.
struct served_fleet {
    served_fleet(mosquitto_broker& b, bytes img, net::mqtt_ota_server_options options)
        : broker(b), image(std::move(img)), server(loop, std::move(options), releases_ref(), seen, null_log()) {}
    fixed_releases& releases_ref() {
        releases.add("s31-nb", "v1.6.0", image);
        return releases;
    }
    mosquitto_broker& broker;
    bytes image;
    fixed_releases releases;
    net::event_loop loop;
    recording_observer seen;
    net::mqtt_ota_server server;
    std::vector<std::unique_ptr<background_process>> devices;
    net::mqtt_ota_server* sibling = nullptr;  // stopped with `server`

    // What happened, for a failure message: the devices' last words, the broker's log, counts.
    std::string report() {
        std::string out;
        for (auto& d : devices) {
            auto r = d->stop();
            out += "device out (tail):\n" + r.out.substr(r.out.size() > 3000 ? r.out.size() - 3000 : 0) + "\nerr:\n" +
                   r.err.substr(r.err.size() > 2000 ? r.err.size() - 2000 : 0) + "\n";
        }
        const std::string log = broker.log();
        out += "broker (tail):\n" + log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
        out += "\nresults " + std::to_string(seen.results.size()) + ", chunks " + std::to_string(seen.chunk_answers.size()) +
               ", ready " + std::to_string(seen.ready) + ", lost " + std::to_string(seen.lost);
        return out;
    }

    // Runs until `expected` devices reported a final code; `step` runs on every event.
    bool run(std::vector<std::vector<std::string>> device_argvs, std::size_t expected, std::chrono::seconds limit,
             std::function<void()> step = {}) {
        bool started = false;
        if (!server.start()) return false;
        return run_until(
            loop, server, seen,
            [&] {
                if (!started && seen.ready) {
                    started = true;
                    for (auto& argv : device_argvs) devices.push_back(std::make_unique<background_process>(argv));
                }
                if (step) step();
                return seen.results.size() >= expected;
            },
            limit, sibling);
    }
};

}  // namespace

TEST(MqttServer, BrokerRestartMidTransferCompletes) {
    mosquitto_broker broker;
    temp_dir tmp;
    served_fleet f(broker, random_bytes(300 * 1024, 2), server_options(broker));
    f.server.trigger("unused");  // queued until connected: must not disturb anything
    bool restarted = false;
    const bool done = f.run({device_args(broker, {"--id", "node-1", "--link-rate", "4000000", "--out", tmp.file("got.bin")})}, 1, 90s,
                            [&] {
                                if (!restarted && f.seen.chunk_answers.size() >= 40) {
                                    restarted = true;
                                    broker.stop();
                                    broker.start();
                                }
                            });
    if (!done) {
        auto r = f.devices.empty() ? process_result{} : f.devices[0]->stop();
        FAIL() << "device:\n" << r.out << r.err << "\nbroker:\n" << broker.log() << "\nanswers " << f.seen.chunk_answers.size()
               << " lost " << f.seen.lost << " ready " << f.seen.ready;
    }
    EXPECT_TRUE(restarted);
    EXPECT_GE(f.seen.lost, 1);
    EXPECT_GE(f.seen.ready, 2);  // subscribed again after the restart
    EXPECT_EQ(f.seen.results["node-1"], 100);
    EXPECT_EQ(slurp(tmp.file("got.bin")), f.image);
    EXPECT_EQ(exit_status(*f.devices[0], 10s), 0);
}

TEST(MqttServer, BrokerDownAtStartFailsAfterTheConnectDeadline) {
    net::event_loop loop;
    recording_observer seen;
    fixed_releases releases;
    releases.add("s31-nb", "v1.6.0", bytes(100, 1));
    net::mqtt_ota_server_options o;
    o.client.broker = *proto::mqtt_ota::parse_broker_url("mqtt://127.0.0.1:" + std::to_string(free_loopback_port()));
    o.client.client_id = "otaflash-test";
    o.connect_deadline = 1500ms;
    net::mqtt_ota_server server(loop, o, releases, seen, null_log());
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(server.start());
    loop.run();  // ends: the server gives up and stops
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(seen.fatal);
    EXPECT_EQ(seen.fatal->code, errc::broker_unreachable);
    EXPECT_NE(seen.fatal->message.find("127.0.0.1"), std::string::npos) << seen.fatal->message;
    EXPECT_FALSE(seen.fatal->hint.empty());
    EXPECT_GE(took, 1500ms);
    EXPECT_LT(took, 20s);
}

TEST(MqttServer, WrongCredentialsAreRefusedAtOnce) {
    broker_options b;
    b.users = {{"otaflash", "right"}};
    b.anonymous = false;
    mosquitto_broker broker(b);
    net::event_loop loop;
    recording_observer seen;
    fixed_releases releases;
    releases.add("s31-nb", "v1.6.0", bytes(100, 1));
    auto o = server_options(broker);
    o.client.username = "otaflash";
    o.client.password = secret{"wrong"};
    o.connect_deadline = 60s;
    net::mqtt_ota_server server(loop, o, releases, seen, null_log());
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(server.start());
    loop.run();
    ASSERT_TRUE(seen.fatal);
    EXPECT_EQ(seen.fatal->code, errc::broker_refused);
    EXPECT_EQ(seen.fatal->message.find("wrong"), std::string::npos);  // never the password
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);  // at once, not at the deadline
}

TEST(MqttServer, AclBrokerWithPasswordsServesEachDeviceItsOwnTopics) {
    mosquitto_broker broker(acl_broker_options());
    temp_dir tmp;
    auto o = server_options(broker);
    o.client.username = "otaflash";
    o.client.password = secret{"server-pw"};
    served_fleet f(broker, random_bytes(20 * 1024, 3), o);
    const std::string pw = tmp.write("device.pw", std::string("device-pw\n"));
    ASSERT_TRUE(f.run({device_args(broker, {"--count", "3", "--id", "acl-%d", "--username", "device", "--password-file", pw,
                                            "--out", tmp.file("got-%d.bin")})},
                      3, 60s))
        << f.report();
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(f.seen.results["acl-" + std::to_string(i)], 100);
        EXPECT_EQ(slurp(tmp.file("got-" + std::to_string(i) + ".bin")), f.image);
    }
    EXPECT_EQ(exit_status(*f.devices[0], 10s), 0);
}

TEST(MqttServer, TlsBroker) {
    broker_options b;
    b.tls = true;
    mosquitto_broker broker(b);
    temp_dir tmp;
    auto o = server_options(broker);
    o.client.ca_file = broker.ca_file();
    served_fleet f(broker, random_bytes(30 * 1024, 4), o);
    ASSERT_TRUE(f.run({device_args(broker, {"--id", "tls-1", "--ca", broker.ca_file(), "--out", tmp.file("got.bin")})}, 1, 60s))
        << f.report();
    EXPECT_EQ(f.seen.results["tls-1"], 100);
    EXPECT_EQ(slurp(tmp.file("got.bin")), f.image);
    EXPECT_EQ(exit_status(*f.devices[0], 10s), 0);
}

TEST(MqttServer, HundredDevicesAtOnce) {
    mosquitto_broker broker;
    temp_dir tmp;
    served_fleet f(broker, random_bytes(16 * 1024 + 5, 5), server_options(broker));
    ASSERT_TRUE(f.run({device_args(broker, {"--count", "100", "--id", "fleet-%d", "--out",
                                            tmp.file("got-%d.bin")})},
                      100, 180s))
        << f.report();
    int ok = 0;
    for (const auto& [device, code] : f.seen.results) ok += code == 100;
    EXPECT_EQ(ok, 100);
    for (int i : {0, 57, 99}) EXPECT_EQ(slurp(tmp.file("got-" + std::to_string(i) + ".bin")), f.image);
    EXPECT_EQ(exit_status(*f.devices[0], 10s), 0);
}

TEST(MqttServer, SharedSubscriptionAnswersEachChunkExactlyOnce) {
    mosquitto_broker broker;
    temp_dir tmp;
    auto o = server_options(broker, "otaflash-a");
    o.share_group = "ota-servers";
    served_fleet f(broker, random_bytes(20 * 1024, 6), o);
    // The sibling: same releases, own client id, same group, same loop.
    auto o2 = server_options(broker, "otaflash-b");
    o2.share_group = "ota-servers";
    recording_observer sibling;
    net::mqtt_ota_server second(f.loop, o2, f.releases, sibling, null_log());
    ASSERT_TRUE(second.start());
    f.sibling = &second;
    bool both_ready = false;
    ASSERT_TRUE(f.run({device_args(broker, {"--count", "20", "--id", "share-%d"})}, 20, 120s,
                      [&] { both_ready = both_ready || sibling.ready > 0; }))
        << f.report();
    second.stop();
    EXPECT_TRUE(both_ready);
    std::map<std::string, int> answers = f.seen.chunk_answers;
    for (const auto& [key, n] : sibling.chunk_answers) answers[key] += n;
    EXPECT_EQ(answers.size(), 20u * 20u);  // 20 devices x 20 chunks
    for (const auto& [key, n] : answers) EXPECT_EQ(n, 1) << key;
    EXPECT_GT(f.seen.chunk_answers.size(), 0u);
    EXPECT_GT(sibling.chunk_answers.size(), 0u);
    int ok = 0;
    for (const auto& [device, code] : f.seen.results) ok += code == 100;
    EXPECT_EQ(ok, 20);
    EXPECT_EQ(exit_status(*f.devices[0], 10s), 0);
}

TEST(MqttServer, MalformedRequestsAreRefusedAndServingGoesOn) {
    mosquitto_broker broker;
    temp_dir tmp;
    served_fleet f(broker, random_bytes(4096, 7), server_options(broker));
    const std::string pub = "/usr/bin/mosquitto_pub";
    std::vector<std::pair<std::string, std::string>> junk{
        {"ota/evil/info/request/1", "not json"},          {"ota/evil/fw/request/1/chunk/x", "1024"},
        {"ota/evil/fw/request/1/chunk/0", "0"},           {"ota/evil/fw/request/1/chunk/0", "99999999"},
        {"ota/evil/fw/request/1/chunk/0", "abc"},         {"ota/evil/fw/request/1/chunk/99", "1024"},
        {"ota/evil/state", "\xf9\x01"}};
    bool sent = false;
    ASSERT_TRUE(f.run({}, 1, 60s, [&] {
        if (sent || !f.seen.ready) return;
        sent = true;
        for (const auto& [topic, payload] : junk)
            EXPECT_EQ(run_process({pub, "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-q", "1", "-t", topic, "-m", payload}).exit_code, 0);
        f.devices.push_back(std::make_unique<background_process>(
            device_args(broker, {"--id", "good-1", "--out", tmp.file("got.bin")})));
    })) << f.report();
    int refused = 0;
    for (const auto& e : f.seen.events)
        if (const auto* r = std::get_if<proto::mqtt_ota::request_refused>(&e)) {
            ++refused;
            EXPECT_FALSE(r->reason.empty());
        }
    EXPECT_EQ(refused, 7);
    EXPECT_EQ(f.seen.results["good-1"], 100);
    EXPECT_EQ(slurp(tmp.file("got.bin")), f.image);
}
