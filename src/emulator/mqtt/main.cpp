// otaflash-mqtt-device: emulated MQTT OTA devices (NB-IoT/LTE-M nodes that fetch firmware in
// CRC-checked chunks through a broker) for testing `otaflash serve --mqtt` and other servers
// (README "Emulated MQTT OTA device"). A fleet on one event loop, events out as JSON Lines.

#include "emulator/mqtt/device.hpp"
#include "emulator/mqtt/json_events.hpp"

#include "cli/emulator_main.hpp"
#include "cli/logging.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/io/limits.hpp>
#include <otaflash/io/secret_file.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/proto/mqtt_ota/topics.hpp>
#include <otaflash/version.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace mqtt = otaflash::emulator::mqtt;
using namespace std::chrono_literals;

namespace {

constexpr const char* program = "otaflash-mqtt-device";

constexpr const char* footer = R"(Password: OTAFLASH_MQTT_PASSWORD, or --password-file (first line); the user is --username
or user@ in --broker. Every device of the fleet logs in with the same user and its own client id.

Faults (--fault, repeatable): title-mismatch (reports 1), same-version (reports 6), corrupt=N
(every answer for chunk N is damaged: 7 after 3 retries of 3 attempts), corrupt-once (the first
answer for each chunk is damaged; the retry succeeds), die-after=N (disconnects for good after N
chunks), silent-after=N (stays connected, asks nothing more), reconnect-after=N (drops the
connection after N chunks, reconnects and goes on). --faulty K applies them to the first K
devices only.

Standard output: one JSON object per line: connected, lost, info, retry, fault, result. Logs go to
stderr.

Examples:
  otaflash-mqtt-device --broker mqtt://127.0.0.1:1883 --id node-17 --title s31-nb --version v1.5.0 --out got.bin
  otaflash-mqtt-device --broker mqtt://127.0.0.1:1883 --count 100 --id 'node-%d' --link-rate 40000
  otaflash-mqtt-device --broker mqtt://127.0.0.1:1883 --count 10 --faulty 2 --fault corrupt-once --wait-trigger

Exit status: 0 every device reported 100; 7 some device reported another code or stopped on
purpose; 2 usage; 4 unreadable password file; 6 the broker refused the login; 130/143 stopped by
a signal.)";

struct options {
    mqtt::device_settings device;
    std::string broker_url;
    std::string username;
    std::optional<std::string> password_file;
    std::string ca_file;
    unsigned count = 1;
    unsigned faulty = 0;  // 0: every device
    std::vector<std::string> faults;
    unsigned reply_timeout_ms = 5000;
    otaflash::cli::logging_options logging;
};

int fail(const otaflash::failure& error) { return otaflash::cli::fail_emulator(program, error); }

std::string with_index(std::string text, unsigned index) {
    for (auto at = text.find("%d"); at != std::string::npos; at = text.find("%d", at))
        text.replace(at, 2, std::to_string(index));
    return text;
}

void add_options(CLI::App& app, options& o) {
    const char* broker = "Broker";
    const char* device = "Device";
    const char* fleet = "Fleet";
    const char* output = "Output";
    auto& d = o.device;
    app.add_option("--broker", o.broker_url, "mqtt://[user@]host[:port] or mqtts://...")->required()->group(broker);
    app.add_option("--username", o.username, "MQTT user (default: the user in --broker, else none)")->group(broker);
    app.add_option("--password-file", o.password_file, "MQTT password on the first line (else OTAFLASH_MQTT_PASSWORD)")
        ->group(broker);
    app.add_option("--ca", o.ca_file, "CA certificate (PEM) to verify an mqtts:// broker")->group(broker);
    app.add_option("--profile", d.profile, "Topic layout: ota or thingsboard")->default_str("ota")->group(device);
    app.add_option("--id", d.id, "MQTT client id, the {device} of the topics (%d: index in the fleet)")
        ->default_str("node-%d")
        ->group(device);
    app.add_option("--title", d.title, "Firmware title the device runs (AT+OTATITLE)")->default_str("s31-nb")->group(device);
    app.add_option("--version", d.version, "Firmware version the device runs (AT+OTAVER)")->default_str("v1.5.0")->group(device);
    app.add_option("--chunk-size", d.chunk_size, "Data bytes asked per chunk (1 to 65536)")
        ->default_str("1024")
        ->check(CLI::Range(1, 65536))
        ->group(device);
    app.add_option("--link-rate", d.link_rate, "Link speed in bit/s; each answer takes its time to arrive (NB-IoT: 20000-60000; 0 = unlimited)")
        ->default_str("0")
        ->group(device);
    app.add_option("--reply-timeout", o.reply_timeout_ms, "ms to wait for an answer (plus the link's time) before asking again")
        ->default_str("5000")
        ->group(device);
    app.add_option("--retries", d.chunk_retries, "Times a chunk is asked again before the attempt fails")->default_str("3")->group(device);
    app.add_option("--attempts", d.attempts, "Whole-update attempts before the device gives up")->default_str("3")->group(device);
    app.add_flag("--wait-trigger", d.wait_trigger, "Start on the trigger (F9 01 on ota/<id>/cmd) instead of at once")->group(device);
    app.add_option("--fault", o.faults, "Misbehave on purpose (repeatable; list below)")->group(device);
    app.add_option("--out", d.out, "Write the received image here on success (atomically; %d: index)")->group(output);
    app.add_option("--count", o.count, "Run this many devices in one process")->default_str("1")->check(CLI::Range(1u, 10000u))->group(fleet);
    app.add_option("--faulty", o.faulty, "Only the first K devices have the --fault list (default: all)")->group(fleet);
    app.add_flag("-v,--verbose", o.logging.verbose, "More log detail on stderr (-vv debug)")->group(output);
    app.add_flag("-q,--quiet", o.logging.quiet, "Only errors on stderr")->group(output);
    app.add_option("--log-level", o.logging.level, "trace, debug, info, warn, error (env OTAFLASH_LOG)")->group(output);
}

// Counts results and ends the run once every device has one.
class fleet_sink final : public mqtt::event_sink {
public:
    fleet_sink(mqtt::event_sink& out, std::size_t devices, std::function<void()> all_done)
        : out_(out), left_(devices), all_done_(std::move(all_done)) {}
    void on_event(const mqtt::device_event& e) override {
        out_.on_event(e);
        if (const auto* r = std::get_if<mqtt::result_event>(&e)) {
            if (r->code != 100) failed_ = true;
            count_down();
        } else if (const auto* f = std::get_if<mqtt::fault_event>(&e); f && f->fault != "reconnect-after") {
            failed_ = true;
            count_down();
        } else if (const auto* l = std::get_if<mqtt::lost_event>(&e); l && l->why.find("refused") != std::string::npos) {
            refused_ = true;
        }
    }
    bool failed() const { return failed_; }
    bool refused() const { return refused_; }

private:
    void count_down() {
        if (left_ > 0 && --left_ == 0) all_done_();
    }
    mqtt::event_sink& out_;
    std::size_t left_;
    std::function<void()> all_done_;
    bool failed_ = false;
    bool refused_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Emulated MQTT OTA devices (NB-IoT/LTE-M nodes fetching firmware in CRC-checked chunks)", program};
    app.set_version_flag("-V,--version-info", std::string(program) + " " + otaflash::version);
    app.footer(footer);
    options o;
    add_options(app, o);
    if (auto ended = otaflash::cli::parse_emulator_args(app, argc, argv, program)) return *ended;
    using otaflash::errc;
    auto url = otaflash::proto::mqtt_ota::parse_broker_url(o.broker_url);
    if (!url) return fail(url.error());
    if (!otaflash::proto::mqtt_ota::find_profile(o.device.profile))
        return fail(otaflash::make_failure(errc::usage_error, "unknown --profile '" + o.device.profile + "'", "use ota or thingsboard"));
    otaflash::emulator::mqtt::device_faults faults;
    for (const auto& f : o.faults)
        if (auto added = otaflash::emulator::mqtt::add_fault(faults, f); !added) return fail(added.error());
    auto password = otaflash::secret_from_file_or_env(o.password_file, "OTAFLASH_MQTT_PASSWORD", "--password-file");
    if (!password) return fail(password.error());
    if (auto logging = otaflash::cli::setup_logging(o.logging); !logging) return fail(logging.error());
    // Each device holds one socket: a large fleet needs more than the usual soft limit of 1024.
    otaflash::raise_open_files_limit(o.count + 64ull);

    mqtt::broker_settings broker{*url, o.username, std::move(*password), o.ca_file};
    o.device.reply_timeout = std::chrono::milliseconds(o.reply_timeout_ms);

    otaflash::net::event_loop loop;
    std::vector<std::unique_ptr<mqtt::device>> devices;
    mqtt::json_lines_sink printer(stdout);
    int status = 0;
    auto stop_all = [&] {
        for (auto& d : devices) d->stop();
        loop.stop_signals();
    };
    fleet_sink sink(printer, o.count, [&] {
        // Let the last state report leave before disconnecting.
        loop.call_after(200ms, stop_all);
    });
    loop.on_signals([&](int signal) {
        status = signal == SIGTERM ? 143 : 130;
        stop_all();
    });
    for (unsigned i = 0; i < o.count; ++i) {
        mqtt::device_settings s = o.device;
        s.id = with_index(s.id, i);
        s.out = with_index(s.out, i);
        if (o.faulty == 0 || i < o.faulty) s.faults = faults;
        if (!otaflash::proto::mqtt_ota::valid_topic_level(s.id))
            return fail(otaflash::make_failure(errc::usage_error, "--id '" + s.id + "' cannot stand in a topic level",
                                               "use letters, digits, '-' and '_' (no '/', '+', '#')"));
        devices.push_back(std::make_unique<mqtt::device>(loop, std::move(s), broker, sink, otaflash::cli::cli_log()));
        if (auto started = devices.back()->start(); !started) return fail(started.error());
    }
    loop.run();
    if (status) return status;
    if (sink.refused()) return otaflash::exit_code_for(errc::broker_refused);
    return sink.failed() ? otaflash::exit_code_for(otaflash::condition::transfer) : 0;
}
