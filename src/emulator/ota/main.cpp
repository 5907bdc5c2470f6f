// otaflash-ota-device: emulated ArduinoOTA devices for testing OTA pipelines (README "Emulated OTA
// device"). Options in, a fleet of one or more devices on one io_context, events out as JSON Lines.

#include "emulator/ota/fleet.hpp"
#include "emulator/ota/fleet_plan.hpp"
#include "emulator/ota/json_events.hpp"

#include "cli/emulator_main.hpp"
#include "cli/logging.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/signal_set.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <sys/resource.h>
#include <memory>
#include <string>
#include <vector>

namespace ota = otaflash::emulator::ota;

namespace {

constexpr const char* program = "otaflash-ota-device";

constexpr const char* footer = R"(Password: OTAFLASH_DEVICE_PASSWORD (or --password-env VAR), or --password-file (first line),
as the sketch's setPassword(); or --password-hash-file holding the stored hash verbatim, as
setPasswordHash(). Without one the device asks for no authentication.

Faults (--fault, repeatable): silent, reject-auth, no-space, no-connect, connect-idle,
drop-after=N, stall-after=N, bad-md5, end-error=TEXT.

Fleets: --devices SPEC (repeatable) adds a group of devices: the device options above as
KEY=VALUE without dashes, separated by commas, plus count=N; every key not given comes from the
command line, and fault= (repeatable; fault=none) replaces the command line's faults. In hostname
and out, %d is the device's index in the fleet. --fleet FILE reads one SPEC per line ('#'
comments). Keys: count, kind, bind, port, password-env, password-file, password-hash-file,
no-password, stored-hash, out, hostname, board, flash-size, loop-ms, flash-rate, ack-latency,
recv-buffer, fault, time-scale.

Standard output: one JSON object per line: ready, mdns, invitation, auth, update. Logs go to stderr.

Examples:
  otaflash-ota-device --kind esp32 --port 0 --out got.bin --updates 1
  OTAFLASH_DEVICE_PASSWORD=secret otaflash-ota-device --kind esp8266 --fault drop-after=4096
  otaflash-ota-device --kind esp8266 --recv-buffer 5744 --flash-rate 200000 --ack-latency 20
  otaflash-ota-device --mdns --spread address --out 'got/%d.bin' \
      --devices count=95,hostname=esp-%d --devices count=5,hostname=bad-%d,fault=bad-md5

Exit status: 0 stopped (SIGINT/SIGTERM or --updates reached), 2 usage, 4 unreadable password
or fleet file, 9 cannot bind an address (or the mDNS port).)";

struct options {
    ota::device_settings device;
    std::string password_env;
    std::string password_file;
    std::string password_hash_file;
    bool no_password = false;
    std::uint64_t updates = 0;
    unsigned count = 1;
    std::string spread = "port";
    std::vector<std::string> groups;
    std::string fleet_file;
    bool mdns = false;
    ota::mdns_settings mdns_settings;
    otaflash::cli::logging_options logging;
};

int fail(const otaflash::failure& error) { return otaflash::cli::fail_emulator(program, error); }

otaflash::failure in(const std::string& origin, otaflash::failure error) {
    error.message = origin + ": " + error.message;
    return error;
}

// The command line's device options: the defaults of every group.
ota::device_settings defaults(const options& o) {
    using origin = ota::password_source::origin;
    ota::device_settings d = o.device;
    if (!o.password_env.empty()) d.password = {origin::environment, o.password_env, true};
    if (!o.password_file.empty()) d.password = {origin::file, o.password_file, true};
    if (!o.password_hash_file.empty()) d.password = {origin::hash_file, o.password_hash_file, true};
    if (o.no_password) d.password = {origin::none, {}, true};
    return d;
}

// --count, or the groups of --fleet and --devices (in that order).
otaflash::result<std::vector<ota::device_group>> groups(const options& o) {
    using otaflash::errc;
    using otaflash::make_failure;
    const auto base = defaults(o);
    if (o.count == 0) return make_failure(errc::usage_error, "--count must be at least 1", "the default is 1");
    if (o.groups.empty() && o.fleet_file.empty()) return std::vector<ota::device_group>{{base, o.count, {}}};

    std::vector<std::pair<std::string, std::string>> specs;  // origin, SPEC
    if (!o.fleet_file.empty()) {
        auto text = otaflash::read_file(o.fleet_file, true, 1 << 20);
        if (!text) return std::move(text).error();
        for (auto& line : ota::fleet_file_specs(otaflash::as_text(*text)))
            specs.emplace_back(o.fleet_file + ":" + std::to_string(line.number), std::move(line.spec));
        if (specs.empty())
            return make_failure(errc::usage_error, "--fleet " + o.fleet_file + " describes no devices",
                                "write one SPEC per line, e.g. count=10,kind=esp32");
    }
    for (const auto& spec : o.groups) specs.emplace_back("--devices '" + ota::shown_spec(spec) + "'", spec);

    std::vector<ota::device_group> out;
    for (auto& [origin, spec] : specs) {
        auto group = ota::parse_group(spec, base);
        if (!group) return in(origin, std::move(group).error());
        group->origin = origin;
        out.push_back(std::move(*group));
    }
    return out;
}

otaflash::result<std::vector<ota::device_config>> plan(const options& o) {
    auto planned = groups(o);
    if (!planned) return std::move(planned).error();
    if (o.spread != "port" && o.spread != "address")
        return otaflash::make_failure(otaflash::errc::usage_error, "unknown --spread '" + o.spread + "'",
                                      "use port or address");
    for (const auto& itf : o.mdns_settings.interfaces) {
        boost::system::error_code ec;
        (void)boost::asio::ip::make_address_v4(itf, ec);
        if (ec)
            return otaflash::make_failure(otaflash::errc::usage_error,
                                          "--mdns-interface '" + itf + "' is not an IPv4 address",
                                          "give the IPv4 address of a local interface, e.g. 127.0.0.1");
    }
    return ota::plan_fleet(*planned, o.spread == "port" ? ota::spread_mode::port : ota::spread_mode::address);
}

// Every device holds a UDP socket and, during an update, a TCP one: a large fleet needs more
// descriptors than the usual soft limit of 1024.
void allow_descriptors(std::size_t devices) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t wanted = static_cast<rlim_t>(devices) * 2 + 64;
    if (limit.rlim_cur >= wanted) return;
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

void add_options(CLI::App& app, options& o) {
    const char* device = "Device";
    const char* behaviour = "Behaviour";
    const char* fleet = "Fleet";
    const char* mdns = "mDNS";
    const char* output = "Output";
    auto& d = o.device;
    app.add_option("--kind", d.kind, "esp8266, esp32 (core >= 3.3.1, PBKDF2 auth), esp32-legacy (<= 3.3.0), rp2040")
        ->default_str("esp8266")
        ->group(device);
    app.add_option("--bind", d.bind, "Address of the device's UDP socket and of its connect-back (127.0.0.1, ::1)")
        ->default_str("127.0.0.1")
        ->group(device);
    app.add_option("--port", d.port, "UDP port (default: the kind's, 8266/3232/2040; 0 picks a free one)")->group(device);
    auto* env = app.add_option("--password-env", o.password_env,
                               "Environment variable holding the password (default OTAFLASH_DEVICE_PASSWORD)")
                    ->group(device);
    auto* pw = app.add_option("--password-file", o.password_file, "Password on the first line (as setPassword())")
                   ->group(device);
    auto* hash = app.add_option("--password-hash-file", o.password_hash_file,
                                "Stored hash on the first line, used verbatim (as setPasswordHash())")
                     ->group(device);
    auto* none = app.add_flag("--no-password", o.no_password, "No password, whatever the environment holds")->group(device);
    for (auto* a : {env, pw, hash, none})
        for (auto* b : {env, pw, hash, none})
            if (a != b) a->excludes(b);
    app.add_option("--stored-hash", d.stored_hash,
                   "What setPassword() stores: md5 or sha256 (default: sha256 for esp32, md5 for the others)")
        ->group(device);
    app.add_option("--flash-size", d.flash_size, "Bytes of space for an update (app or filesystem)")
        ->default_str("1048576")
        ->group(device);
    app.add_option("--hostname", d.hostname,
                   "mDNS name without .local, as setHostname(); %d: index in the fleet "
                   "(default: the kind's, esp8266-XXXXXX, esp32-XXXXXXXXXXXX, pico-...)")
        ->group(device);
    app.add_option("--board", d.board, "TXT board= of the mDNS advertisement (default: d1_mini, esp32, rpipicow)")
        ->group(device);
    app.add_option("--out", d.out, "Write every accepted image to this file (atomically; %d: index in the fleet)")
        ->group(output);
    app.add_option("--updates", o.updates, "Exit (status 0) after this many update attempts ended (all devices)")
        ->group(behaviour);
    app.add_option("--loop-ms", d.loop_ms, "Period of the sketch's loop(), which runs ArduinoOTA.handle()")
        ->default_str("5")
        ->group(behaviour);
    app.add_option("--flash-rate", d.flash_rate, "Flash write speed in bytes/s; the device reads no faster (0 = unlimited)")
        ->default_str("0")
        ->group(behaviour);
    app.add_option("--ack-latency", d.ack_latency_ms, "Every acknowledgement leaves this many ms later; reads go on")
        ->default_str("0")
        ->group(behaviour);
    app.add_option("--recv-buffer", d.recv_buffer, "SO_RCVBUF of the device's TCP socket (5744 is lwIP's window)")
        ->group(behaviour);
    app.add_option("--fault", d.faults, "Misbehave on purpose (repeatable; list below)")->group(behaviour);
    app.add_option("--time-scale", d.time_scale,
                   "Multiply the firmware's delays and timeouts (1 s before OK, receive timeout...); for tests")
        ->default_str("1")
        ->group(behaviour);
    auto* count = app.add_option("--count", o.count, "Run this many devices in one process (the same kind and faults)")
                      ->default_str("1")
                      ->group(fleet);
    auto* groups = app.add_option("--devices", o.groups,
                                  "A group of devices, e.g. count=10,kind=esp32,fault=no-space (repeatable; below)")
                       ->group(fleet);
    auto* file = app.add_option("--fleet", o.fleet_file, "Groups from a file, one SPEC per line")->group(fleet);
    count->excludes(groups)->excludes(file);
    app.add_option("--spread", o.spread,
                   "How the devices differ: port (consecutive ports) or address (consecutive IPv4 addresses, "
                   "127.0.0.1, 127.0.0.2, ..., each on its kind's port)")
        ->default_str("port")
        ->group(fleet);
    auto* on = app.add_flag("--mdns", o.mdns, "Answer mDNS for every device: <hostname>.local and _arduino._tcp")
                   ->group(mdns);
    app.add_option("--mdns-port", o.mdns_settings.port, "UDP port of the mDNS group (default 5353; others for tests)")
        ->default_str("5353")
        ->needs(on)
        ->group(mdns);
    app.add_option("--mdns-interface", o.mdns_settings.interfaces,
                   "IPv4 address of an interface to answer on (repeatable; default 127.0.0.1)")
        ->default_str("127.0.0.1")
        ->needs(on)
        ->group(mdns);
    app.add_flag("-v,--verbose", o.logging.verbose, "More log detail on stderr (-vv debug)")->group(output);
    app.add_flag("-q,--quiet", o.logging.quiet, "Only errors on stderr")->group(output);
    app.add_option("--log-level", o.logging.level, "trace, debug, info, warn, error (env OTAFLASH_LOG)")->group(output);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"An emulated ArduinoOTA device (esp8266, esp32, rp2040) for testing OTA uploads", program};
    app.set_version_flag("-V,--version", std::string(program) + " " + otaflash::version);
    app.footer(footer);
    options o;
    add_options(app, o);
    if (auto ended = otaflash::cli::parse_emulator_args(app, argc, argv, program)) return *ended;

    auto planned = plan(o);
    if (!planned) return fail(planned.error());
    if (auto logging = otaflash::cli::setup_logging(o.logging); !logging) return fail(logging.error());
    allow_descriptors(planned->size());

    boost::asio::io_context io;
    std::uint64_t ended = 0;
    auto count_update = [&] {
        if (o.updates > 0 && ++ended >= o.updates) io.stop();
    };
    // Sinks before the fleet: a device reports to its sink until it is destroyed.
    std::vector<std::unique_ptr<ota::json_lines_sink>> sinks;
    ota::fleet devices(io, otaflash::cli::cli_log());
    // Signals are caught before the first ready line, so a script may stop us as soon as it reads it.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        devices.stop();
        io.stop();
    });
    const bool several = planned->size() > 1;
    for (auto& one : *planned) {
        sinks.push_back(std::make_unique<ota::json_lines_sink>(stdout, count_update, several));
        if (auto started = devices.add(std::move(one), *sinks.back()); !started) return fail(started.error());
    }
    if (o.mdns) {
        if (auto advertised = devices.advertise(o.mdns_settings); !advertised) return fail(advertised.error());
        const std::string line =
            ota::mdns_ready_line(o.mdns_settings.port, o.mdns_settings.interfaces, devices.devices().size()) + "\n";
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
    }
    io.run();
    return 0;
}
