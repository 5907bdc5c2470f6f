// `otaflash espota …`: espota.py's command line, as the Arduino IDE, arduino-cli and PlatformIO
// call it (user-needs.md Appendix A and B), running otaflash's push engine. Exit status 0 or 1
// like espota.py (option errors 2, as its option parser); the messages are otaflash's.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/commands/push_image.hpp"
#include "cli/duration.hpp"
#include "cli/push_engine.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <memory>

namespace otaflash::cli {
namespace {

struct espota_args {
    std::string ip;
    std::string host_ip;
    std::optional<std::string> port;
    std::optional<std::string> host_port;
    std::optional<std::string> auth;
    std::string file;
    bool spiffs = false;
    bool debug = false;
    bool progress = false;
    std::optional<double> timeout;
    bool md5_target = false;
};

constexpr int espota_failure = 1;

int finish(reporter& out, const failure& f, nlohmann::json result = nlohmann::json::object()) {
    out.fail("espota", f, std::move(result));
    return espota_failure;
}

int run_espota(app_context& ctx, const espota_args& a) {
    reporter& out = ctx.report();
    if (a.ip.empty() || a.file.empty())
        return finish(out, make_failure(errc::usage_error, "Not enough arguments: -i IP and -f FILE are required",
                                        "e.g. otaflash espota -i 192.168.1.50 -p 8266 -f sketch.bin"));
    auto target = net::parse_target(a.ip);
    if (!target) return finish(out, std::move(target).error());

    push_settings settings;
    push_device device;
    device.target_text = a.ip;
    device.target = *target;
    if (a.port) {
        auto port = net::parse_port(*a.port, "-p/--port");
        if (!port) return finish(out, std::move(port).error());
        device.target.port = *port;
    }
    // espota.py defaulted to 8266 (esp8266 core) or 3232 (esp32 core); trying both (and arduino-pico's
    // 2040) from one socket serves either core's users.
    device.ports = device.target.port ? std::vector<std::uint16_t>{*device.target.port}
                                      : std::vector<std::uint16_t>{8266, 3232, 2040};
    // -I only chose the listener's address in espota.py; 0.0.0.0 (its default) means "all".
    settings.host_ip = a.host_ip;
    if (a.host_port) {
        auto port = net::parse_port(*a.host_port, "-P/--host_port");
        if (!port) return finish(out, std::move(port).error());
        settings.host_port = *port;
    } else {
        settings.espota_port_range = true;
    }
    settings.cmd = a.spiffs ? espota::command::filesystem : espota::command::flash;
    // espota.py waits for each invitation answer -t seconds (default 10), up to 10 times (esp32).
    if (a.timeout) {
        if (!std::isfinite(*a.timeout) || *a.timeout * 1000.0 < static_cast<double>(min_timeout.count()) ||
            *a.timeout > 3600)
            return finish(out, make_failure(errc::usage_error,
                                            "-t/--timeout must be a number of seconds from its floor of " +
                                                std::to_string(min_timeout.count()) + "ms up to 3600",
                                            "e.g. -t 10"));
        settings.times.invite = std::chrono::milliseconds(static_cast<long long>(std::llround(*a.timeout * 1000.0)));
    } else {
        settings.times.invite = std::chrono::seconds(10);
    }
    settings.times.invite_max = settings.times.invite;
    settings.times.invite_retries = 9;
    settings.md5_only = a.md5_target;

    password_inputs secrets;
    secrets.auth_arg = a.auth;
    if (const char* env = std::getenv("OTAFLASH_PASSWORD")) secrets.env = env;
    auto password = resolve_password(secrets, system_password_readers());
    if (!password) return finish(out, std::move(password).error());
    for (auto& w : password->warnings) out.warn(w);
    device.password = std::move(*password);

    preflight_request checks;
    checks.filesystem = a.spiffs;
    checks.pico_port = device.ports.size() == 1 && device.ports.front() == 2040;
    checks.advisory = true;
    // esp8266 espota.py sends FILE.signed when it exists ("Detected Signed Update").
    auto image = load_push_image(a.file, true, checks);
    if (!image) return finish(out, std::move(image).error());
    for (auto& w : image->warnings) out.warn(w);
    for (auto& n : image->notes) out.line("note: " + n);
    settings.image_path = image->path;
    settings.image = std::move(image->data);
    settings.image_facts = std::move(image->facts);

    run_policy policy;
    policy.may_prompt = ctx.may_prompt();
    push_outcome result = run_push(ctx, settings, std::move(device), policy);
    for (auto& w : result.warnings) out.warn(w);
    if (result.error) return finish(out, *result.error, std::move(result.result));
    out.line(result.summary);
    return out.succeed("espota", std::move(result.result));
}

}  // namespace

void register_espota(CLI::App& app, app_context& ctx) {
    auto* sub = app.add_subcommand(
        "espota", "espota.py's command line (for the Arduino IDE, arduino-cli, PlatformIO): exit status 0 or 1");
    auto a = std::make_shared<espota_args>();
    // The global -v/-q/--json/--progress still work before "espota"; these are espota.py's own.
    sub->add_option("-i,--ip", a->ip, "ESP8266/ESP32 IP address or host name");
    sub->add_option("-I,--host_ip", a->host_ip, "Local address the connect-back listener binds to (default: all)");
    sub->add_option("-p,--port", a->port, "ESP's OTA UDP port (default: try 8266, 3232, 2040)");
    sub->add_option("-P,--host_port", a->host_port, "Local TCP port for the connect-back (default: random 10000-60000)");
    sub->add_option("-a,--auth", a->auth, "Password (prefer the OTAFLASH_PASSWORD environment variable)");
    sub->add_option("-f,--file", a->file, "Image file to upload");
    sub->add_flag("-s,--spiffs", a->spiffs, "Upload a filesystem image (SPIFFS/LittleFS)");
    sub->add_flag("-d,--debug", a->debug, "Debug output on stderr");
    sub->add_flag("-r,--progress", a->progress, "Progress bar on a terminal (plain lines otherwise)");
    sub->add_option("-t,--timeout", a->timeout, "Seconds to wait for each invitation answer (10 tries; default 10)");
    sub->add_flag("-m,--md5-target", a->md5_target, "PBKDF2 devices: answer with the MD5 hash of the password only");
    sub->footer(
        "PlatformIO (platformio.ini):\n"
        "  upload_protocol = custom\n"
        "  upload_command = otaflash espota --debug --progress -i $UPLOAD_PORT $UPLOAD_FLAGS -f $SOURCE\n"
        "arduino-cli / Arduino IDE: point tools.esp_ota (esp32) or tools.esptool.upload.network_pattern (esp8266)\n"
        "at 'otaflash espota -i {address} -p {port} \"--auth={password}\" -f {bin}' (see README).");
    ctx.on_run(sub, [a](app_context& c) {
        if (a->debug && c.global.logging.level.empty()) {
            c.global.logging.level = "debug";
            if (auto logging = setup_logging(c.global.logging); !logging) return finish(c.report(), logging.error());
        }
        // espota.py draws a bar only with -r; without it, plain lines suit the IDEs that capture stderr.
        if (!a->progress && c.global.progress == "auto" && !c.global.json && !c.global.logging.quiet)
            c.global.progress = "plain";
        return run_espota(c, *a);
    });
}

}  // namespace otaflash::cli
