// otaflash-pull-device: emulated devices that pull their firmware over HTTP/HTTPS as
// ESP8266httpUpdate, arduino-esp32 HTTPUpdate, esp32FOTA or a raw /version + /firmware.bin client
// does, for testing `otaflash serve` and other update servers (README "Emulated pulling device").
// A fleet on one event loop, events out as JSON Lines.

#include "emulator/pull/fleet.hpp"
#include "emulator/pull/json_events.hpp"

#include "cli/emulator_main.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/io/limits.hpp>
#include <otaflash/io/secret_file.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/version.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pull = otaflash::emulator::pull;

namespace {

constexpr const char* program = "otaflash-pull-device";

constexpr const char* footer = R"(Kinds: esp8266-httpupdate and esp32-httpupdate GET --url as the Arduino cores do (HTTP/1.0,
x-ESP8266-*/x-ESP32-* headers: MAC, free space, sketch MD5, chip size, mode, version; 304 = no
update); esp32fota GETs the JSON manifest at --url, compares its semantic version and GETs its
url (application/octet-stream only); raw GETs URL/version, compares the text and GETs
URL/firmware.bin. Every image is judged as the device would: Content-Length present and within
the free space (--fs-size in spiffs mode), magic byte 0xE9 (0x1F gzip on ESP8266), on ESP8266
the header's flash size within --flash-size, x-MD5 when sent, the length as announced.
--drop-after N cuts the first download after N bytes: esp32fota and raw resume with Range and
If-Range, the Arduino clients start over.

Fleets: --count N devices like the options say (MACs counting up from --mac), and --devices SPEC
(repeatable) for groups that differ: count=N plus device options as KEY=VALUE without dashes.
Keys: count, kind, version, chip, flash, free, mac, sketch-md5, type, mode, fs-size, url,
drop-after, attempts, out, user.

Credentials, sent with every request as HTTPClient sends them: --user NAME with the password in
OTAFLASH_DEVICE_PASSWORD or on the first line of --password-file (Authorization: Basic), or a
bearer token in OTAFLASH_DEVICE_TOKEN or --token-file (Authorization: Bearer). With both, Basic
is sent: HTTPClient drops an added Authorization header once it holds user and password. Secrets
are never taken on the command line and never printed.

--mode version (esp8266-httpupdate): ESP8266httpUpdate's version query, x-ESP8266-mode: version;
the answer's x-version (required) and x-MD5 are reported as outcome "version", nothing is
downloaded.

Standard output: one JSON object per line: request (device, method, url, status, range, bytes,
cut), result (device, outcome updated|no_update|version|error, code, detail, reason, offered, bytes, md5,
requests, resumed, file, ms).

Examples:
  otaflash-pull-device --kind esp32fota --url http://127.0.0.1:8070/manifest.json --out got.bin
  otaflash-pull-device --kind esp8266-httpupdate --url http://127.0.0.1:8070/firmware.bin \
      --flash-size 1MB --mac 18:FE:34:00:00:01 --count 10
  otaflash-pull-device --kind raw --url https://ota.lan:8443 --ca-cert ca.pem --drop-after 100000

Exit status: 0 every device updated or had no update; otherwise the class of the failures when
they share one: 5 server unreachable, 6 401 Unauthorized, 7 transfer broke (timeouts, resets, too
many cut downloads, a bad answer), 8 the device rejected the image (size, magic, flash size, MD5),
9 --out not writable, 11 the server refused (403, 404, other status); 12 failures of several
classes; 2 usage; 130/143 stopped by a signal.)";

struct options {
    pull::device_settings device;
    pull::client_settings client;
    std::string kind = "esp32fota";
    std::string chip = "esp32";
    std::string flash = "4MB";
    std::string mode = "sketch";
    std::string fs_size = "1441792";
    std::uint64_t free_space = 1536u << 10;
    std::string mac = "24:0A:C4:00:00:01";
    std::uint64_t drop_after = 0;
    std::optional<std::string> password_file;
    std::optional<std::string> token_file;
    unsigned timeout_ms = 30000;
    unsigned count = 1;
    std::vector<std::string> groups;
};

int fail(const otaflash::failure& error) { return otaflash::cli::fail_emulator(program, error); }

void add_options(CLI::App& app, options& o) {
    const char* server = "Server";
    const char* device = "Device";
    const char* fleet = "Fleet";
    auto& d = o.device;
    app.add_option("--url", d.url, "Firmware URL (httpupdate), manifest URL (esp32fota) or base URL (raw)")
        ->required()
        ->group(server);
    app.add_option("--ca-cert", o.client.ca_file, "CA certificate (PEM) that verifies an https:// server (default: the system's)")
        ->group(server);
    app.add_flag("--insecure", o.client.insecure, "Accept any https:// certificate (tests only: no verification)")->group(server);
    app.add_option("--timeout", o.timeout_ms, "ms each step may take (lookup, connect, handshake, each read)")
        ->default_str("30000")
        ->check(CLI::Range(1u, 3600000u))
        ->group(server);
    app.add_option("--kind", o.kind, "esp8266-httpupdate, esp32-httpupdate, esp32fota or raw")->default_str("esp32fota")->group(device);
    app.add_option("--version", d.profile.version, "Version the device runs")->default_str("1.0.0")->group(device);
    app.add_option("--mac", o.mac, "STA MAC of the (first) device")->default_str("24:0A:C4:00:00:01")->group(device);
    app.add_option("--chip", o.chip, "esp32 or esp8266 (esp8266-httpupdate: always esp8266)")->default_str("esp32")->group(device);
    app.add_option("--flash-size", o.flash, "Real flash size (4MB, 1MB, 512KB or bytes)")->default_str("4MB")->group(device);
    app.add_option("--free-space", o.free_space, "Free sketch space in bytes")->default_str("1572864")->group(device);
    app.add_option("--sketch-md5", d.profile.running_md5, "MD5 of the running sketch (httpupdate; default 32 zeros)")->group(device);
    app.add_option("--mode", o.mode,
                   "httpupdate: sketch, spiffs for the filesystem image, or version (esp8266: ask the version only)")->default_str("sketch")->group(device);
    app.add_option("--fs-size", o.fs_size, "Filesystem partition size for spiffs mode (bytes or 1MB)")->default_str("1441792")->group(device);
    app.add_option("--type", d.profile.type, "esp32FOTA firmware type to pick from the manifest (default: any)")->group(device);
    app.add_option("--drop-after", o.drop_after, "Cut the first download after this many body bytes")->group(device);
    app.add_option("--attempts", d.attempts, "Downloads (cut ones included) before giving up")
        ->default_str("3")
        ->check(CLI::Range(1, 100))
        ->group(device);
    app.add_option("--rx-window", o.client.rx_window, "TCP receive buffer in bytes, as a device's small window (default: the OS's)")
        ->group(device);
    app.add_option("--user", d.credentials.user,
                   "HTTP Basic user; the password comes from OTAFLASH_DEVICE_PASSWORD or --password-file")
        ->group(server);
    app.add_option("--password-file", o.password_file, "File whose first line is the Basic password")->group(server);
    app.add_option("--token-file", o.token_file,
                   "File whose first line is a bearer token (else OTAFLASH_DEVICE_TOKEN); Basic wins over it")
        ->group(server);
    app.add_option("--out", d.out, "Write the accepted image here, atomically (%d: index in the fleet)")->group(device);
    app.add_option("--count", o.count, "Devices like these options, MACs counting up")
        ->default_str("1")
        ->check(CLI::Range(0u, 10000u))
        ->group(fleet);
    app.add_option("--devices", o.groups, "A group of devices that differ: count=N,KEY=VALUE,... (repeatable)")->group(fleet);
}

// The password and token, from their files or the environment (never argv), for every device:
// the password only where a user is set (--user or a group's user=).
otaflash::result<void> read_credentials(const options& o, std::vector<pull::device_settings>& fleet) {
    using otaflash::errc;
    const bool users = std::any_of(fleet.begin(), fleet.end(), [](const auto& d) { return !d.credentials.user.empty(); });
    if (o.password_file && !users)
        return otaflash::make_failure(errc::usage_error, "--password-file needs --user",
                                      "give the user name the device sends with the password");
    otaflash::secret password;
    if (users) {
        auto read = otaflash::secret_from_file_or_env(o.password_file, "OTAFLASH_DEVICE_PASSWORD", "--password-file");
        if (!read) return std::move(read).error();
        if (read->empty())
            return otaflash::make_failure(errc::password_unavailable, "--user needs a password",
                                          "put it in OTAFLASH_DEVICE_PASSWORD or on the first line of --password-file");
        password = std::move(*read);
    }
    auto token = otaflash::secret_from_file_or_env(o.token_file, "OTAFLASH_DEVICE_TOKEN", "--token-file");
    if (!token) return std::move(token).error();
    for (auto& d : fleet) {
        if (!d.credentials.user.empty()) d.credentials.password = password;
        d.credentials.token = *token;
    }
    return {};
}

// Prints every event, keeps what the exit status needs, and ends the run after the last result.
class fleet_sink final : public pull::event_sink {
public:
    fleet_sink(pull::event_sink& out, std::size_t devices, std::function<void()> all_done)
        : out_(out), left_(devices), all_done_(std::move(all_done)) {}
    void on_event(const pull::device_event& e) override {
        out_.on_event(e);
        const auto* r = std::get_if<pull::result_event>(&e);
        if (!r) return;
        if (r->code) classes_.insert(otaflash::exit_code_for(*r->code));
        if (left_ > 0 && --left_ == 0) all_done_();
    }
    int exit_status() const {
        if (classes_.empty()) return 0;
        return classes_.size() == 1 ? *classes_.begin() : otaflash::exit_code_for(otaflash::condition::partial);
    }

private:
    pull::event_sink& out_;
    std::size_t left_;
    std::function<void()> all_done_;
    std::set<int> classes_;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Emulated devices that pull firmware over HTTP/HTTPS (ESP8266httpUpdate, HTTPUpdate, esp32FOTA, raw)",
                 program};
    app.set_version_flag("-V,--version-info", std::string(program) + " " + otaflash::version);
    app.footer(footer);
    options o;
    add_options(app, o);
    if (auto ended = otaflash::cli::parse_emulator_args(app, argc, argv, program)) return *ended;
    using otaflash::errc;
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"kind", o.kind}, {"chip", o.chip}, {"flash", o.flash}, {"free", std::to_string(o.free_space)},
             {"mac", o.mac}, {"mode", o.mode}, {"fs-size", o.fs_size}})
        if (auto applied = pull::apply_setting(o.device, key, value); !applied) return fail(applied.error());
    if (o.drop_after) o.device.drop_after = o.drop_after;
    if (o.client.insecure && !o.client.ca_file.empty())
        return fail(otaflash::make_failure(errc::usage_error, "--insecure and --ca-cert contradict each other",
                                           "verify with --ca-cert, or drop it for --insecure"));
    o.client.timeout = std::chrono::milliseconds(o.timeout_ms);

    std::vector<pull::device_settings> fleet = pull::repeat(o.device, o.count, 0);
    for (const auto& spec : o.groups) {
        auto group = pull::expand_group(o.device, spec, static_cast<unsigned>(fleet.size()));
        if (!group) return fail(group.error());
        for (auto& d : *group) fleet.push_back(std::move(d));
    }
    if (fleet.empty()) return fail(otaflash::make_failure(errc::usage_error, "no devices: --count 0 and no --devices"));
    if (auto read = read_credentials(o, fleet); !read) return fail(read.error());
    for (const auto& d : fleet) {
        if (auto url = pull::parse_url(d.url); !url) return fail(url.error());
        if (d.version_query && d.profile.kind != pull::client_kind::esp8266_httpupdate)
            return fail(otaflash::make_failure(errc::usage_error, "--mode version is ESP8266httpUpdate's query",
                                               "use it with --kind esp8266-httpupdate"));
    }
    // Each device holds one socket at a time: a large fleet needs more than the usual soft limit.
    otaflash::raise_open_files_limit(fleet.size() + 64ull);

    otaflash::net::event_loop loop;
    pull::json_lines_sink printer(stdout);
    fleet_sink sink(printer, fleet.size(), [&] { loop.stop_signals(); });
    loop.on_signals([](int signal) {
        // Connections in flight are simply dropped, as when a device loses power.
        std::fflush(stdout);
        std::_Exit(signal == SIGTERM ? 143 : 130);
    });
    for (auto& d : fleet) pull::start_device(loop, o.client, std::move(d), sink);
    loop.run();
    return sink.exit_status();
}
