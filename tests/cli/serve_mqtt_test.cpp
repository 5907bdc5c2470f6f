// `otaflash serve --mqtt` as a user runs it: the real otaflash binary, a private mosquitto on
// loopback and emulated devices (otaflash-mqtt-device), judged by exit codes, the JSON Lines on
// stdout, the images the devices wrote and what an independent subscriber saw on the broker.

#include "fixtures.hpp"
#include "image_builder.hpp"
#include "json_events.hpp"
#include "mosquitto_broker.hpp"
#include "subprocess.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <map>
#include <sstream>
#include <thread>

using namespace otaflash;
using namespace otaflash::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A valid ESP32 application image of about `size` bytes (the checks of serve accept it).
bytes app_image(std::size_t size, unsigned seed) {
    image_spec spec;
    spec.target = chip::esp32;
    spec.segments = {{flash_data_address(chip::esp32), random_bytes(size, seed)},
                     {code_ram_address(chip::esp32), random_bytes(64, seed + 1)}};
    return build_image(spec);
}

process_options cli_env(std::chrono::milliseconds timeout = 120s) {
    process_options o;
    o.timeout = timeout;
    o.env = {{"CI", "true"}, {"NO_COLOR", "1"}};
    o.unset_env = {"OTAFLASH_MQTT_PASSWORD"};
    return o;
}

std::vector<std::string> serve_argv(const mosquitto_broker& broker, const std::string& image, std::vector<std::string> more) {
    std::vector<std::string> argv{bin_path("otaflash"), "serve", "--json", "--mqtt", broker.url(), "--title", "s31-nb",
                                  "--version", "v1.6.0", image};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
}

std::vector<std::string> device_argv(const mosquitto_broker& broker, std::vector<std::string> more) {
    std::vector<std::string> argv{bin_path("otaflash-mqtt-device"), "--broker", broker.url(), "--reply-timeout", "10000"};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
}

// An --expect file naming PREFIX0 ... PREFIX<n-1>, one a line.
std::string expect_file(const temp_dir& tmp, const std::string& prefix, int n) {
    std::string ids;
    for (int i = 0; i < n; ++i) ids += prefix + std::to_string(i) + "\n";
    return tmp.write("expect.txt", ids);
}

std::vector<json> json_lines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        auto j = json::parse(line, nullptr, false);
        if (j.is_object()) out.push_back(std::move(j));
    }
    return out;
}

json summary_of(const std::vector<json>& lines) {
    for (const auto& j : lines)
        if (j.value("event", "") == "summary") return j;
    return json();
}

// The summary's table, by device id.
std::map<std::string, json> rows_by_device(const json& summary) {
    std::map<std::string, json> rows;
    for (const auto& row : summary["devices"]) rows[row["device"]] = row;
    return rows;
}

int count_kind(const std::vector<json>& lines, const std::string& kind) {
    int n = 0;
    for (const auto& j : lines) n += j.value("event", "") == "device" && j.value("kind", "") == kind;
    return n;
}

// Reads a running serve's stdout until it has said where it listens; the lines read go to `seen`.
bool wait_listening(background_process& serve, std::vector<json>& seen, std::chrono::milliseconds limit = 20s) {
    return next_json_event(serve, "listening", limit, &seen).has_value();
}

// Everything serve printed from now until it exits (within `limit`), and its exit code.
struct serve_end {
    int exit_code = -1;
    std::vector<json> lines;
    std::string err;
};
serve_end finish(background_process& serve, std::vector<json> lines, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        auto line = serve.read_line(500ms);
        if (line) {
            auto j = json::parse(*line, nullptr, false);
            if (j.is_object()) lines.push_back(std::move(j));
        } else if (!serve.running()) {
            break;
        }
    }
    auto r = serve.stop();
    for (auto& j : json_lines(r.out)) lines.push_back(std::move(j));
    return {r.exit_code, std::move(lines), r.err};
}

// `otaflash serve --json --mqtt BROKER … IMAGE MORE…`, read up to its "listening" line
// (`listening` says whether it came); end() reads the rest until it exits.
struct serving {
    background_process process;
    std::vector<json> lines;
    bool listening;
    serving(const mosquitto_broker& broker, const std::string& image, std::vector<std::string> more,
            const process_options& env = cli_env())
        : process(serve_argv(broker, image, std::move(more)), env), listening(wait_listening(process, lines)) {}
    std::string stop_err() { return process.stop().err; }
    serve_end end(std::chrono::milliseconds limit) { return finish(process, std::move(lines), limit); }
};

std::string describe(const serve_end& s) {
    std::string out = "exit " + std::to_string(s.exit_code) + "\nstderr:\n" + s.err + "\nlast lines:\n";
    const std::size_t from = s.lines.size() > 15 ? s.lines.size() - 15 : 0;
    for (std::size_t i = from; i < s.lines.size(); ++i) out += s.lines[i].dump() + "\n";
    return out;
}

}  // namespace

TEST(ServeMqtt, TriggeredExpectedDeviceGetsTheImageAndServeExitsZero) {
    mosquitto_broker broker;
    temp_dir tmp;
    const bytes image = app_image(40 * 1024, 1);
    const auto path = tmp.write("fw.bin", image);
    // The device waits for the trigger, so it must be listening before serve publishes it.
    background_process device(device_argv(broker, {"--id", "node-17", "--wait-trigger", "--out", tmp.file("got.bin")}));
    ASSERT_TRUE(next_json_event(device, "connected", 20s));
    serving serve(broker, path, {"--expect", "node-17", "--trigger", "--deadline", "60s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    EXPECT_EQ(serve.lines.back()["urls"][0], broker.url());
    auto end = serve.end(60s);
    ASSERT_EQ(end.exit_code, 0) << describe(end) << broker.log();
    EXPECT_EQ(slurp(tmp.file("got.bin")), image);
    auto summary = summary_of(end.lines);
    EXPECT_TRUE(summary["ok"]);
    EXPECT_EQ(summary["devices"][0]["device"], "node-17");
    EXPECT_EQ(summary["devices"][0]["state"], "delivered");
    EXPECT_EQ(count_kind(end.lines, "started"), 1);
    EXPECT_GE(count_kind(end.lines, "progress"), 9);  // every 10 %
    EXPECT_EQ(count_kind(end.lines, "delivered"), 1);
    EXPECT_EQ(summary["requests"], 1);  // check-in, chunks and state report: one exchange
}

TEST(ServeMqtt, HumanOutputHasALinePerEventAndATable) {
    mosquitto_broker broker;
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(20 * 1024, 2));
    auto argv = serve_argv(broker, path, {"--expect", "node-1", "--deadline", "60s"});
    argv.erase(argv.begin() + 2);  // no --json
    background_process serve(argv, cli_env());
    ASSERT_EQ(serve.read_line(20s).value_or("").rfind("listening on mqtt://127.0.0.1:", 0), 0u);
    background_process device(device_argv(broker, {"--id", "node-1"}));
    std::string out;
    const auto limit = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < limit)
        if (auto line = serve.read_line(500ms)) out += *line + "\n";
        else if (!serve.running()) break;
    auto r = serve.stop();
    out += r.out;
    ASSERT_EQ(r.exit_code, 0) << out << r.err;
    EXPECT_NE(out.find("node-1 mqtt started info s31-nb runs=v1.5.0 offered=v1.6.0"), std::string::npos) << out;
    EXPECT_NE(out.find("node-1 mqtt progress chunk"), std::string::npos) << out;
    int progress_lines = 0;  // one each time a tenth more of the image went out
    for (auto at = out.find("mqtt progress"); at != std::string::npos; at = out.find("mqtt progress", at + 1)) ++progress_lines;
    EXPECT_EQ(progress_lines, 10) << out;
    EXPECT_NE(out.find("node-1 mqtt delivered state offered=v1.6.0: reported 100"), std::string::npos) << out;
    EXPECT_NE(out.find("DEVICE"), std::string::npos) << out;  // the table
    EXPECT_NE(out.find("served 1 requests, 1 complete downloads"), std::string::npos) << out;
}

TEST(ServeMqtt, BrokerRestartMidTransferCompletes) {
    mosquitto_broker broker;
    temp_dir tmp;
    const bytes image = app_image(300 * 1024, 3);
    const auto path = tmp.write("fw.bin", image);
    serving serve(broker, path, {"--expect", "node-1", "--deadline", "90s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    // 4 Mbit/s: about a second for the whole image, long enough to restart the broker in the middle.
    background_process device(
        device_argv(broker, {"--id", "node-1", "--link-rate", "4000000", "--out", tmp.file("got.bin")}));
    bool restarted = false;
    const auto limit = std::chrono::steady_clock::now() + 30s;
    while (!restarted && std::chrono::steady_clock::now() < limit) {
        auto line = serve.process.read_line(1s);
        if (!line) continue;
        auto j = json::parse(*line, nullptr, false);
        if (!j.is_object()) continue;
        serve.lines.push_back(j);
        if (j.value("kind", "") == "progress" && j.value("bytes", 0) >= 100 * 1024) {
            broker.stop();
            broker.start();
            restarted = true;
        }
    }
    ASSERT_TRUE(restarted);
    auto end = serve.end(90s);
    ASSERT_EQ(end.exit_code, 0) << describe(end) << device.stop().err;
    EXPECT_NE(end.err.find("reconnecting"), std::string::npos) << end.err;
    EXPECT_EQ(slurp(tmp.file("got.bin")), image);
    EXPECT_EQ(summary_of(end.lines)["devices"][0]["state"], "delivered");
}

TEST(ServeMqtt, BrokerDownAtStartExitsFiveAfterTheConnectTimeout) {
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(4096, 4));
    const std::string url = "mqtt://127.0.0.1:" + std::to_string(free_loopback_port());
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_process({bin_path("otaflash"), "serve", "--mqtt", url, "--mqtt-connect-timeout", "1500ms", "--title",
                          "s31-nb", "--version", "v1.6.0", path},
                         cli_env(30s));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
    EXPECT_FALSE(r.timed_out);
    EXPECT_NE(r.err.find("127.0.0.1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hint:"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("listening"), std::string::npos);
    EXPECT_GE(took, 1500ms);
    EXPECT_LT(took, 15s);
}

// A broker that goes away and stays away: serve does not wait forever. Once it has been gone for
// --mqtt-connect-timeout, the run ends with exit 5, the broker's address and what to do.
TEST(ServeMqtt, ABrokerLostForLongerThanTheConnectTimeoutEndsServeWithExitFive) {
    mosquitto_broker broker;
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(4096, 15));
    serving serve(broker, path, {"--mqtt-connect-timeout", "1500ms"}, cli_env(60s));
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    const auto t0 = std::chrono::steady_clock::now();  // before the stop: serve may see the loss during it
    broker.stop();
    auto end = serve.end(20s);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(end.exit_code, 5) << describe(end);
    EXPECT_GE(took, 1500ms);
    EXPECT_LT(took, 10s);
    auto summary = summary_of(end.lines);
    EXPECT_EQ(summary["error"]["code"], "broker_unreachable") << describe(end);
    const std::string message = summary["error"]["message"];
    EXPECT_NE(message.find("lost the MQTT broker at " + broker.url()), std::string::npos) << message;
    EXPECT_NE(summary["error"]["hint"].get<std::string>().find("--mqtt-connect-timeout"), std::string::npos);
}

// The broker comes back but no longer takes serve's login (its password was changed): retrying
// cannot help, so serve ends at once with exit 6 instead of retrying forever.
TEST(ServeMqtt, ABrokerThatRefusesTheReconnectEndsServeWithExitSix) {
    mosquitto_broker broker(acl_broker_options());
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(4096, 16));
    const auto server_pw = tmp.write("server.pw", std::string("server-pw\n"));
    serving serve(broker, path, {"--mqtt-username", "otaflash", "--mqtt-password-file", server_pw,
                                                       "--mqtt-connect-timeout", "30s"}, cli_env(60s));
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    auto rotated = acl_broker_options();
    rotated.users["otaflash"] = "rotated-pw";
    broker.stop();
    broker.reconfigure(rotated);
    broker.start();
    const auto t0 = std::chrono::steady_clock::now();
    auto end = serve.end(25s);
    EXPECT_EQ(end.exit_code, 6) << describe(end) << broker.log();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);  // at once, not at the 30 s connect timeout
    auto summary = summary_of(end.lines);
    EXPECT_EQ(summary["error"]["code"], "broker_refused") << describe(end);
    const std::string message = summary["error"]["message"];
    EXPECT_NE(message.find("the broker " + broker.url() + " refused the connection"), std::string::npos) << message;
    EXPECT_NE(message.find("it had accepted the login before"), std::string::npos) << message;
    EXPECT_NE(summary["error"]["hint"].get<std::string>().find("password"), std::string::npos);
}

TEST(ServeMqtt, WrongCredentialsExitSixAtOnceAndTheRightOnesFromAFileServe) {
    mosquitto_broker broker(acl_broker_options());
    temp_dir tmp;
    const bytes image = app_image(8 * 1024, 5);
    const auto path = tmp.write("fw.bin", image);

    auto env = cli_env(30s);
    env.unset_env.clear();
    env.env["OTAFLASH_MQTT_PASSWORD"] = "not-the-password";
    const auto t0 = std::chrono::steady_clock::now();
    auto wrong = run_process({bin_path("otaflash"), "serve", "--mqtt", broker.url(), "--mqtt-username", "otaflash",
                              "--mqtt-connect-timeout", "60s", "--title", "s31-nb", "--version", "v1.6.0", path},
                             env);
    EXPECT_EQ(wrong.exit_code, 6) << wrong.err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s);  // at once, not at the 60 s deadline
    EXPECT_EQ(wrong.err.find("not-the-password"), std::string::npos);
    EXPECT_EQ(wrong.out.find("not-the-password"), std::string::npos);

    const auto server_pw = tmp.write("server.pw", std::string("server-pw\n"));
    const auto device_pw = tmp.write("device.pw", std::string("device-pw\n"));
    serving serve(broker, path, {"--mqtt-username", "otaflash", "--mqtt-password-file", server_pw,
                                                       "--expect", "acl-0", "--expect", "acl-1", "--deadline", "60s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    background_process devices(device_argv(broker, {"--count", "2", "--id", "acl-%d", "--username", "device",
                                                    "--password-file", device_pw, "--out", tmp.file("got-%d.bin")}));
    auto end = serve.end(60s);
    ASSERT_EQ(end.exit_code, 0) << describe(end);
    EXPECT_EQ(slurp(tmp.file("got-1.bin")), image);
}

TEST(ServeMqtt, MalformedRequestsAreRefusedAndServingGoesOn) {
    mosquitto_broker broker;
    temp_dir tmp;
    const bytes image = app_image(4096, 6);
    const auto path = tmp.write("fw.bin", image);
    serving serve(broker, path, {"--expect", "good-1", "--deadline", "60s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    const std::vector<std::pair<std::string, std::string>> junk{
        {"ota/evil/info/request/1", "not json"},      {"ota/evil/fw/request/1/chunk/x", "1024"},
        {"ota/evil/fw/request/1/chunk/0", "0"},       {"ota/evil/fw/request/1/chunk/0", "99999999"},
        {"ota/evil/fw/request/1/chunk/0", "abc"},     {"ota/evil/fw/request/1/chunk/99", "1024"},
        {"ota/evil/state", "\xf9\x01"}};
    for (const auto& [topic, payload] : junk)
        EXPECT_EQ(run_process({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-q", "1",
                               "-t", topic, "-m", payload})
                      .exit_code,
                  0);
    background_process device(device_argv(broker, {"--id", "good-1", "--out", tmp.file("got.bin")}));
    auto end = serve.end(60s);
    ASSERT_EQ(end.exit_code, 0) << describe(end);
    EXPECT_EQ(count_kind(end.lines, "refused"), 7) << describe(end);
    EXPECT_EQ(slurp(tmp.file("got.bin")), image);
}

TEST(ServeMqtt, AFailingDeviceIsNamedWithItsCodeAndTheRunExitsTwelve) {
    mosquitto_broker broker;
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(8 * 1024, 7));
    serving serve(broker, path, {"--expect", "bad-1", "--expect", "ghost", "--deadline", "8s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    background_process device(
        device_argv(broker, {"--id", "bad-1", "--fault", "corrupt=3", "--retries", "0", "--attempts", "1"}));
    auto end = serve.end(30s);
    EXPECT_EQ(end.exit_code, 12) << describe(end);
    auto summary = summary_of(end.lines);
    EXPECT_EQ(summary["error"]["code"], "some_targets_failed");
    auto rows = rows_by_device(summary);
    EXPECT_EQ(rows["bad-1"]["state"], "failed");
    EXPECT_NE(rows["bad-1"]["detail"].get<std::string>().find("reported 7"), std::string::npos) << rows["bad-1"];
    EXPECT_EQ(rows["ghost"]["state"], "waiting");
}

// A device that runs the release already says so (state 6) and is done: one request each.
TEST(ServeMqtt, EachDeviceIsOneRequestAndAVersionMatchIsAlreadyCurrent) {
    mosquitto_broker broker;
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(8 * 1024, 13));
    serving serve(broker, path, {"--expect", "new-1", "--expect", "cur-1", "--deadline", "60s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    background_process fresh(device_argv(broker, {"--id", "new-1"}));
    background_process current(device_argv(broker, {"--id", "cur-1", "--fault", "same-version"}));
    auto end = serve.end(60s);
    ASSERT_EQ(end.exit_code, 0) << describe(end);
    auto summary = summary_of(end.lines);
    EXPECT_EQ(summary["requests"], 2) << describe(end);
    EXPECT_EQ(summary["delivered"], 1);
    auto rows = rows_by_device(summary);
    EXPECT_EQ(rows["new-1"]["state"], "delivered");
    EXPECT_EQ(rows["cur-1"]["state"], "already_current") << rows["cur-1"];
}

// A device gone silent mid-transfer never reports: when serve stops, its exchange ends as failed
// with what was served, and counts once.
TEST(ServeMqtt, ACheckInWithoutAStateReportEndsAsFailedWhenServeStops) {
    mosquitto_broker broker;
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(8 * 1024, 14));
    serving serve(broker, path, {"--expect", "mute-1", "--deadline", "3s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    background_process device(device_argv(broker, {"--id", "mute-1", "--fault", "silent-after=3"}));
    auto end = serve.end(30s);
    EXPECT_EQ(end.exit_code, 10) << describe(end);
    auto summary = summary_of(end.lines);
    EXPECT_EQ(summary["requests"], 1) << describe(end);
    ASSERT_EQ(summary["devices"].size(), 1u);
    EXPECT_EQ(summary["devices"][0]["state"], "failed");
    EXPECT_EQ(summary["devices"][0]["bytes"], 3 * 1024);
    EXPECT_EQ(summary["devices"][0]["detail"].get<std::string>().rfind("no state report before serve stopped (3072 of ", 0),
              0u) << summary["devices"][0];
}

TEST(ServeMqtt, NobodyCameExitsTen) {
    mosquitto_broker broker;
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(4096, 8));
    serving serve(broker, path, {"--expect", "ghost", "--deadline", "1s"});
    auto end = serve.end(30s);
    EXPECT_EQ(end.exit_code, 10) << describe(end);
    EXPECT_EQ(summary_of(end.lines)["error"]["code"], "expected_devices_missing");
}

TEST(ServeMqtt, HundredDevices) {
    mosquitto_broker broker;
    temp_dir tmp;
    const bytes image = app_image(16 * 1024, 9);
    const auto path = tmp.write("fw.bin", image);
    const auto expect = expect_file(tmp, "fleet-", 100);
    serving serve(broker, path, {"--expect", expect, "--deadline", "150s"}, cli_env(180s));
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    background_process devices(device_argv(broker, {"--count", "100", "--id", "fleet-%d", "--out", tmp.file("got-%d.bin")}));
    auto end = serve.end(170s);
    ASSERT_EQ(end.exit_code, 0) << describe(end);
    EXPECT_EQ(count_kind(end.lines, "delivered"), 100);
    EXPECT_EQ(summary_of(end.lines)["delivered"], 100);
    for (int i : {0, 42, 99}) EXPECT_EQ(slurp(tmp.file("got-" + std::to_string(i) + ".bin")), image);
}

TEST(ServeMqtt, TwoInstancesInOneShareGroupAnswerEachChunkExactlyOnce) {
    mosquitto_broker broker;
    temp_dir tmp;
    const bytes image = app_image(20 * 1024, 10);
    const auto path = tmp.write("fw.bin", image);
    const auto expect = expect_file(tmp, "share-", 20);
    // An independent witness: every chunk answer's topic, as the broker delivers it.
    background_process witness({"/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-q",
                                "1", "-t", "ota/+/fw/response/#", "-F", "%t"});
    // Both instances use the default client id (unique per process in a share group).
    const std::vector<std::string> share{"--mqtt-share-group", "ota-servers", "--expect", expect, "--deadline", "120s"};
    serving a(broker, path, share, cli_env(150s));
    serving b(broker, path, share, cli_env(150s));
    ASSERT_TRUE(a.listening) << a.stop_err();
    ASSERT_TRUE(b.listening) << b.stop_err();
    std::this_thread::sleep_for(300ms);  // the witness subscribes
    background_process devices(device_argv(broker, {"--count", "20", "--id", "share-%d"}));
    auto ea = a.end(120s);
    auto eb = b.end(30s);
    ASSERT_EQ(ea.exit_code, 0) << describe(ea);
    ASSERT_EQ(eb.exit_code, 0) << describe(eb);
    // Both took a share of the info requests; neither saw all of them.
    EXPECT_GT(count_kind(ea.lines, "started"), 0);
    EXPECT_GT(count_kind(eb.lines, "started"), 0);
    EXPECT_EQ(count_kind(ea.lines, "started") + count_kind(eb.lines, "started"), 20);
    std::this_thread::sleep_for(300ms);
    auto seen = witness.stop();
    std::map<std::string, int> answers;
    std::istringstream in(seen.out);
    for (std::string topic; std::getline(in, topic);)
        if (!topic.empty()) ++answers[topic];
    EXPECT_EQ(answers.size(), 20u * ((image.size() + 1023) / 1024));  // 20 devices x every 1 KiB chunk
    for (const auto& [topic, n] : answers) EXPECT_EQ(n, 1) << topic;
}

TEST(ServeMqtt, ThingsBoardProfileWarnsThatItCannotTellDevicesApart) {
    mosquitto_broker broker;
    temp_dir tmp;
    const bytes image = app_image(6 * 1024, 11);
    const auto path = tmp.write("fw.bin", image);
    serving serve(broker, path, {"--mqtt-profile", "thingsboard", "--chunk-framing", "raw",
                                                       "--expect", "me", "--deadline", "60s"});
    ASSERT_TRUE(serve.listening) << serve.stop_err();
    background_process device(device_argv(broker, {"--profile", "thingsboard", "--id", "tb-1", "--out", tmp.file("got.bin")}));
    auto end = serve.end(60s);
    ASSERT_EQ(end.exit_code, 0) << describe(end);
    EXPECT_NE(end.err.find("cannot tell devices apart"), std::string::npos) << end.err;
    EXPECT_EQ(slurp(tmp.file("got.bin")), image);
}

TEST(ServeMqtt, OptionMistakesAreUsageErrors) {
    temp_dir tmp;
    const auto path = tmp.write("fw.bin", app_image(4096, 12));
    auto run = [&](std::vector<std::string> more) {
        std::vector<std::string> argv{bin_path("otaflash"), "serve", "--title", "t", "--version", "1", path};
        argv.insert(argv.end(), more.begin(), more.end());
        return run_process(argv, cli_env(20s));
    };
    EXPECT_EQ(run({"--mqtt-profile", "thingsboard"}).exit_code, 2);  // without --mqtt
    EXPECT_EQ(run({"--mqtt", "mqtt://127.0.0.1:1", "--mqtt-profile", "nope"}).exit_code, 2);
    EXPECT_EQ(run({"--mqtt", "mqtt://127.0.0.1:1", "--chunk-framing", "base64"}).exit_code, 2);
    EXPECT_EQ(run({"--mqtt", "mqtt://127.0.0.1:1", "--trigger"}).exit_code, 2);  // nobody to trigger
    EXPECT_EQ(run({"--mqtt", "mqtt://u:pw@127.0.0.1:1"}).exit_code, 2);         // a password on argv
    EXPECT_EQ(run({"--mqtt", "mqtt://127.0.0.1:1", "--mqtt-ca", path}).exit_code, 2);  // CA for a plain broker
}
