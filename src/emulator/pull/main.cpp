// otaflash-pull-device: emulated devices that pull their firmware over HTTP/HTTPS as
// ESP8266httpUpdate, arduino-esp32 HTTPUpdate, esp32FOTA or a raw /version + /firmware.bin client
// does, for testing `otaflash serve`, `otaflash publish` trees behind a web server, and other
// servers (README "Emulated pulling device"). A fleet on one event loop, JSON Lines out.

#include "emulator/pull/fleet.hpp"

#include "cli/logging.hpp"
#include "cli/output.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/io/limits.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/version.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

namespace pull = otaflash::emulator::pull;

namespace {

constexpr const char* program = "otaflash-pull-device";

constexpr const char* footer = R"(Kinds: esp8266-httpupdate and esp32-httpupdate GET --url as the Arduino cores do (HTTP/1.0,
x-ESP8266-*/x-ESP32-* headers with MAC, free space, sketch MD5, chip size, version; 304 = no
update); esp32fota GETs the JSON manifest at --url, compares its semantic version and GETs its
url; raw GETs URL/version, compares the text and GETs URL/firmware.bin. Every image is judged as
the device would: Content-Length present and within the free space, magic byte 0xE9 (0x1F gzip on
ESP8266), the header's flash size within --flash-size, x-MD5 when sent, length as announced.
--drop-after N cuts the first download after N bytes: esp32fota and raw resume with Range and
If-Range, the Arduino clients start over.

Fleets: --count N devices like the options say (MACs counting up from --mac), and --devices
'count=N,kind=...,version=...,chip=...,flash=...,free=...,mac=...,type=...,url=...,drop-after=...,
out=...' (repeatable) for groups that differ.

Standard output: one JSON object per line: request (device, url, status, range, bytes, cut),
result (device, outcome updated|no_update|error, detail, offered, bytes, md5, requests, resumed,
file, ms).

Examples:
  otaflash-pull-device --kind esp32fota --url http://127.0.0.1:8080/manifest.json --version 1.0.0 --out got.bin
  otaflash-pull-device --kind esp8266-httpupdate --url http://127.0.0.1:8070/firmware.bin --flash-size 1MB
  otaflash-pull-device --kind raw --url https://ota.lan:8443 --ca ca.pem --drop-after 100000 --count 10

Exit status: 0 every device updated or had no update; 7 some device ended in an error; 2 usage;
130/143 stopped by a signal.)";

struct options {
    pull::device_settings device;
    std::string kind = "esp32fota";
    std::string chip = "esp32";
    std::string flash = "4MB";
    std::uint64_t free_space = 1536u << 10;
    std::string mac = "24:0A:C4:00:00:01";
    std::uint64_t drop_after = 0;
    unsigned count = 1;
    std::vector<std::string> groups;
    std::string ca_file;
    otaflash::cli::logging_options logging;
};

int fail(const otaflash::failure& error) {
    otaflash::cli::reporter report(otaflash::cli::output_format::text);
    return report.fail(program, error);
}

void emit(const nlohmann::json& j) {
    std::fprintf(stdout, "%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stdout);
}

class printer final : public pull::event_sink {
public:
    explicit printer(std::size_t devices, std::function<void()> all_done) : left_(devices), all_done_(std::move(all_done)) {}
    void on_request(const pull::request_event& e) override {
        emit({{"event", "request"}, {"device", e.device}, {"method", e.method}, {"url", e.url}, {"status", e.status},
              {"range", e.range}, {"bytes", e.bytes}, {"cut", e.cut}});
    }
    void on_result(const pull::result_event& r) override {
        emit({{"event", "result"}, {"device", r.device}, {"outcome", r.outcome}, {"detail", r.detail}, {"offered", r.offered},
              {"bytes", r.bytes}, {"md5", r.md5}, {"requests", r.requests}, {"resumed", r.resumed}, {"file", r.file},
              {"ms", r.ms}});
        failed_ = failed_ || r.outcome == "error";
        if (left_ > 0 && --left_ == 0) all_done_();
    }
    bool failed() const { return failed_; }

private:
    std::size_t left_;
    std::function<void()> all_done_;
    bool failed_ = false;
};

void add_options(CLI::App& app, options& o) {
    auto& d = o.device;
    app.add_option("--url", d.url, "Firmware URL (httpupdate), manifest URL (esp32fota) or base URL (raw)")->required();
    app.add_option("--kind", o.kind, "esp8266-httpupdate, esp32-httpupdate, esp32fota or raw")->default_str("esp32fota");
    app.add_option("--version", d.profile.version, "Version the device runs")->default_str("1.0.0");
    app.add_option("--mac", o.mac, "STA MAC of the (first) device")->default_str("24:0A:C4:00:00:01");
    app.add_option("--chip", o.chip, "esp32 or esp8266 (esp8266-httpupdate: always esp8266)")->default_str("esp32");
    app.add_option("--flash-size", o.flash, "Real flash size (4MB, 1MB, 512KB or bytes)")->default_str("4MB");
    app.add_option("--free-space", o.free_space, "Free sketch space in bytes")->default_str("1572864");
    app.add_option("--sketch-md5", d.profile.running_md5, "MD5 of the running sketch (httpupdate)");
    app.add_option("--type", d.profile.type, "esp32FOTA firmware type to pick from the manifest (default: any)");
    app.add_option("--drop-after", o.drop_after, "Cut the first download after this many bytes");
    app.add_option("--attempts", d.attempts, "Downloads (cut ones included) before giving up")->default_str("3");
    app.add_option("--out", d.out, "Write the accepted image here (%d: index in the fleet)");
    app.add_option("--ca", o.ca_file, "CA certificate (PEM) that verifies an https:// server (default: the system's)");
    app.add_option("--count", o.count, "Devices like these options, MACs counting up")->default_str("1")->check(CLI::Range(0u, 10000u));
    app.add_option("--devices", o.groups, "A group of devices that differ: count=N,key=value,... (repeatable)");
    app.add_flag("-v,--verbose", o.logging.verbose, "More log detail on stderr (-vv debug)");
    app.add_flag("-q,--quiet", o.logging.quiet, "Only errors on stderr");
    app.add_option("--log-level", o.logging.level, "trace, debug, info, warn, error (env OTAFLASH_LOG)");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Emulated devices that pull firmware over HTTP/HTTPS (ESP8266httpUpdate, HTTPUpdate, esp32FOTA, raw)",
                 program};
    app.set_version_flag("-V,--version-info", std::string(program) + " " + otaflash::version);
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
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"kind", o.kind}, {"chip", o.chip}, {"flash", o.flash}, {"free", std::to_string(o.free_space)}, {"mac", o.mac}})
        if (auto applied = pull::apply_setting(o.device, key, value); !applied) return fail(applied.error());
    if (o.drop_after) o.device.drop_after = o.drop_after;
    if (auto url = pull::parse_url(o.device.url); !url) return fail(url.error());
    if (auto logging = otaflash::cli::setup_logging(o.logging); !logging) return fail(logging.error());

    std::vector<pull::device_settings> fleet = pull::repeat(o.device, o.count, 0);
    for (const auto& spec : o.groups) {
        auto group = pull::expand_group(o.device, spec, static_cast<unsigned>(fleet.size()));
        if (!group) return fail(group.error());
        for (auto& d : *group) {
            if (auto url = pull::parse_url(d.url); !url) return fail(url.error());
            fleet.push_back(std::move(d));
        }
    }
    if (fleet.empty()) return fail(otaflash::make_failure(otaflash::errc::usage_error, "no devices: --count 0 and no --devices"));
    otaflash::raise_open_files_limit(fleet.size() + 64ull);

    otaflash::net::event_loop loop;
    int status = 0;
    printer out(fleet.size(), [&] { loop.stop_signals(); });
    loop.on_signals([&](int signal) {
        status = signal == SIGTERM ? 143 : 130;
        std::fflush(stdout);
        std::_Exit(status);  // connections in flight are simply dropped, as a device losing power
    });
    const pull::tls_settings tls{o.ca_file};
    for (auto& d : fleet) pull::start_device(loop, tls, std::move(d), out);
    loop.run();
    if (status) return status;
    return out.failed() ? otaflash::exit_code_for(otaflash::condition::transfer) : 0;
}
