// otaflash-ota-device: an emulated ArduinoOTA device for testing OTA pipelines (README
// "Emulated OTA device"). Options in, one device on one io_context, events out as JSON Lines.

#include "emulator/ota/device.hpp"
#include "emulator/ota/json_events.hpp"
#include "emulator/ota/listener.hpp"

#include "cli/logging.hpp"
#include "cli/output.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace ota = otaflash::emulator::ota;

namespace {

constexpr const char* program = "otaflash-ota-device";
constexpr const char* password_env = "OTAFLASH_DEVICE_PASSWORD";

constexpr const char* footer = R"(Password: OTAFLASH_DEVICE_PASSWORD, or --password-file (first line), as the sketch's
setPassword(); or --password-hash-file holding the stored hash verbatim, as setPasswordHash().
Without one the device asks for no authentication.

Faults (--fault, repeatable): silent, reject-auth, no-space, no-connect, connect-idle,
drop-after=N, stall-after=N, bad-md5, end-error=TEXT.

Standard output: one JSON object per line: ready, invitation, auth, update. Logs go to stderr.

Examples:
  otaflash-ota-device --kind esp32 --port 0 --out got.bin --updates 1
  OTAFLASH_DEVICE_PASSWORD=secret otaflash-ota-device --kind esp8266 --fault drop-after=4096
  otaflash-ota-device --kind esp8266 --recv-buffer 5744 --flash-rate 200000 --ack-latency 20

Exit status: 0 stopped (SIGINT/SIGTERM or --updates reached), 2 usage, 4 unreadable password
file, 9 cannot bind the address.)";

struct options {
    std::string kind = "esp8266";
    std::string bind = "127.0.0.1";
    std::optional<std::uint16_t> port;
    std::string password_file;
    std::string password_hash_file;
    std::string stored_hash;
    std::string out;
    std::uint64_t flash_size = 1u << 20;
    std::uint64_t updates = 0;
    unsigned loop_ms = 5;
    std::uint64_t flash_rate = 0;
    unsigned ack_latency_ms = 0;
    std::uint32_t recv_buffer = 0;
    std::vector<std::string> faults;
    double time_scale = 1.0;
    unsigned count = 1;
    std::string spread = "port";
    otaflash::cli::logging_options logging;
};

int fail(const otaflash::failure& error) {
    otaflash::cli::reporter report(otaflash::cli::output_format::text);
    return report.fail(program, error);
}

// The first line of a file, without its line ending.
otaflash::result<std::string> first_line(const std::string& path, const char* option) {
    auto data = otaflash::read_file(path, true, 64 * 1024);
    if (!data) return std::move(data).error();
    std::string text(otaflash::as_text(*data));
    text = text.substr(0, text.find('\n'));
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty())
        return otaflash::make_failure(otaflash::errc::file_empty, std::string(option) + " " + path + " has an empty first line",
                                      "put the password (or hash) on the first line");
    return text;
}

otaflash::result<ota::device_config> resolve(const options& o) {
    using otaflash::errc;
    using otaflash::make_failure;
    ota::device_config config;

    auto kind = ota::kind_from_name(o.kind);
    if (!kind)
        return make_failure(errc::usage_error, "unknown --kind '" + o.kind + "'",
                            "use one of esp8266, esp32, esp32-legacy, rp2040");
    config.kind = *kind;
    config.bind_address = o.bind;
    config.port = o.port;

    std::optional<ota::stored_hash> hash;
    if (o.stored_hash == "md5") hash = ota::stored_hash::md5;
    else if (o.stored_hash == "sha256") hash = ota::stored_hash::sha256;
    else if (!o.stored_hash.empty())
        return make_failure(errc::usage_error, "unknown --stored-hash '" + o.stored_hash + "'", "use md5 or sha256");

    if (!o.password_hash_file.empty()) {
        if (hash)
            return make_failure(errc::usage_error, "--stored-hash applies to a password, not to --password-hash-file",
                                "the hash file is stored verbatim; drop --stored-hash");
        auto stored = first_line(o.password_hash_file, "--password-hash-file");
        if (!stored) return std::move(stored).error();
        config.password = otaflash::secret(std::move(*stored));
    } else {
        std::optional<otaflash::secret> password;
        if (!o.password_file.empty()) {
            auto line = first_line(o.password_file, "--password-file");
            if (!line) return std::move(line).error();
            password = otaflash::secret(std::move(*line));
        } else if (const char* env = std::getenv(password_env); env && *env) {
            password = otaflash::secret(env);
        }
        if (password)
            config.password = ota::stored_password(password->reveal(), hash.value_or(ota::traits(*kind).default_stored_hash));
    }

    config.out_file = o.out;
    if (o.flash_size == 0)
        return make_failure(errc::usage_error, "--flash-size must be more than 0", "give the update space in bytes");
    config.flash_size = o.flash_size;
    if (o.loop_ms == 0) return make_failure(errc::usage_error, "--loop-ms must be at least 1", "the default is 5");
    config.loop_period = std::chrono::milliseconds(o.loop_ms);
    config.flash_rate = o.flash_rate;
    config.ack_latency = std::chrono::milliseconds(o.ack_latency_ms);
    config.recv_buffer = o.recv_buffer;
    for (const auto& f : o.faults)
        if (auto added = ota::add_fault(config.faults, f); !added) return std::move(added).error();
    if (config.faults.reject_auth && !config.password)
        return make_failure(errc::usage_error, "--fault reject-auth needs a device password",
                            std::string("set ") + password_env + " or give --password-file");
    if (!(o.time_scale > 0.0))
        return make_failure(errc::usage_error, "--time-scale must be more than 0", "1 is real time");
    config.time_scale = o.time_scale;
    return config;
}

// --count devices from one configuration: consecutive ports or consecutive IPv4 addresses; each
// writes its own --out file (FILE.0, FILE.1, ...).
otaflash::result<std::vector<ota::device_config>> spread(const ota::device_config& base, const options& o) {
    using otaflash::errc;
    using otaflash::make_failure;
    if (o.count == 0) return make_failure(errc::usage_error, "--count must be at least 1", "the default is 1");
    if (o.spread != "port" && o.spread != "address")
        return make_failure(errc::usage_error, "unknown --spread '" + o.spread + "'", "use port or address");
    std::vector<ota::device_config> fleet;
    if (o.count == 1) {
        fleet.push_back(base);
        return fleet;
    }
    boost::system::error_code ec;
    const auto first = boost::asio::ip::make_address(base.bind_address, ec);
    if (o.spread == "address" && (ec || !first.is_v4()))
        return make_failure(errc::usage_error, "--spread address needs an IPv4 --bind address",
                            "e.g. --bind 127.0.0.1 --count 10 --spread address");
    const std::uint32_t first_port = base.port.value_or(ota::traits(base.kind).default_port);
    if (o.spread == "port" && first_port != 0 && first_port + o.count - 1 > 65535)
        return make_failure(errc::usage_error, "--count " + std::to_string(o.count) + " devices from port " +
                                                   std::to_string(first_port) + " run past port 65535",
                            "start lower, or use --port 0");
    for (unsigned i = 0; i < o.count; ++i) {
        ota::device_config one = base;
        if (o.spread == "port") {
            if (first_port != 0) one.port = static_cast<std::uint16_t>(first_port + i);
        } else {
            one.bind_address = boost::asio::ip::make_address_v4(first.to_v4().to_uint() + i).to_string();
        }
        if (!base.out_file.empty()) one.out_file = base.out_file + "." + std::to_string(i);
        fleet.push_back(std::move(one));
    }
    return fleet;
}

void add_options(CLI::App& app, options& o) {
    const char* device = "Device";
    const char* behaviour = "Behaviour";
    const char* output = "Output";
    app.add_option("--kind", o.kind, "esp8266, esp32 (core >= 3.3.1, PBKDF2 auth), esp32-legacy (<= 3.3.0), rp2040")
        ->default_str("esp8266")
        ->group(device);
    app.add_option("--bind", o.bind, "Address of the device's UDP socket and of its connect-back (127.0.0.1, ::1)")
        ->default_str("127.0.0.1")
        ->group(device);
    app.add_option("--port", o.port, "UDP port (default: the kind's, 8266/3232/2040; 0 picks a free one)")->group(device);
    auto* pw = app.add_option("--password-file", o.password_file, "Password on the first line (as setPassword())")
                   ->group(device);
    auto* hash = app.add_option("--password-hash-file", o.password_hash_file,
                                "Stored hash on the first line, used verbatim (as setPasswordHash())")
                     ->group(device);
    pw->excludes(hash);
    app.add_option("--stored-hash", o.stored_hash,
                   "What setPassword() stores: md5 or sha256 (default: sha256 for esp32, md5 for the others)")
        ->group(device);
    app.add_option("--flash-size", o.flash_size, "Bytes of space for an update (app or filesystem)")
        ->default_str("1048576")
        ->group(device);
    app.add_option("--out", o.out, "Write every accepted image to this file (atomically)")->group(output);
    app.add_option("--updates", o.updates, "Exit (status 0) after this many update attempts ended")->group(behaviour);
    app.add_option("--loop-ms", o.loop_ms, "Period of the sketch's loop(), which runs ArduinoOTA.handle()")
        ->default_str("5")
        ->group(behaviour);
    app.add_option("--flash-rate", o.flash_rate, "Flash write speed in bytes/s; the device reads no faster (0 = unlimited)")
        ->default_str("0")
        ->group(behaviour);
    app.add_option("--ack-latency", o.ack_latency_ms, "Every acknowledgement leaves this many ms later; reads go on")
        ->default_str("0")
        ->group(behaviour);
    app.add_option("--recv-buffer", o.recv_buffer, "SO_RCVBUF of the device's TCP socket (5744 is lwIP's window)")
        ->group(behaviour);
    app.add_option("--fault", o.faults, "Misbehave on purpose (repeatable; list below)")->group(behaviour);
    app.add_option("--time-scale", o.time_scale,
                   "Multiply the firmware's delays and timeouts (1 s before OK, receive timeout...); for tests")
        ->default_str("1")
        ->group(behaviour);
    app.add_option("--count", o.count, "Run this many devices in one process (the same kind and faults)")
        ->default_str("1")
        ->group(device);
    app.add_option("--spread", o.spread,
                   "How --count devices differ: port (consecutive ports) or address (consecutive IPv4 addresses, "
                   "e.g. 127.0.0.1, 127.0.0.2, ...)")
        ->default_str("port")
        ->group(device);
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
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return fail(otaflash::make_failure(otaflash::errc::usage_error, e.what(), "see " + std::string(program) + " --help"));
    }

    auto config = resolve(o);
    if (!config) return fail(config.error());
    if (auto logging = otaflash::cli::setup_logging(o.logging); !logging) return fail(logging.error());

    auto fleet = spread(*config, o);
    if (!fleet) return fail(fleet.error());

    boost::asio::io_context io;
    std::uint64_t ended = 0;
    auto count_update = [&] {
        if (o.updates > 0 && ++ended >= o.updates) io.stop();
    };
    // Sinks before devices: a device reports to its sink until it is destroyed.
    std::vector<std::unique_ptr<ota::json_lines_sink>> sinks;
    std::vector<std::unique_ptr<ota::device>> devices;
    // Signals are caught before the first ready line, so a script may stop us as soon as it reads it.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (ec) return;
        for (auto& d : devices) d->stop();
        io.stop();
    });
    for (auto& one : *fleet) {
        sinks.push_back(std::make_unique<ota::json_lines_sink>(stdout, count_update, fleet->size() > 1));
        devices.push_back(std::make_unique<ota::device>(io.get_executor(), std::move(one), *sinks.back(),
                                                        otaflash::cli::cli_log()));
        if (auto started = devices.back()->start(); !started) return fail(started.error());
    }
    io.run();
    return 0;
}
