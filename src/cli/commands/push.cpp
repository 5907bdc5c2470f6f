// `otaflash push [options] FILE TARGET`: one image to one ArduinoOTA device over the air
// (espota protocol). Success only on the device's own OK; every other ending has its exit class.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/commands/push_image.hpp"
#include "cli/duration.hpp"
#include "cli/push_engine.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <memory>

namespace otaflash::cli {
namespace {

struct push_args {
    std::string file;
    std::string target;
    std::optional<std::string> port;
    std::string host_ip;
    std::optional<std::string> host_port;
    bool filesystem = false;
    std::string chip;
    bool prefer_signed = false;
    std::optional<std::string> password_file;
    bool password_stdin = false;
    std::optional<std::string> password_hash;
    std::optional<std::string> auth;
    unsigned window = espota::default_window;
    std::string invite_timeout = "2s";
    unsigned invite_retries = espota::timeouts{}.invite_retries;
    std::string auth_timeout = "10s";
    std::string accept_timeout = "10s";
    std::string ack_timeout = "10s";
    std::string result_timeout = "60s";
};

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>{v} : std::nullopt;
}

result<espota::timeouts> parse_timeouts(const push_args& a) {
    espota::timeouts t;
    t.invite_retries = a.invite_retries;
    struct field {
        const std::string& text;
        espota::millis& value;
        const char* option;
    };
    const field fields[] = {{a.invite_timeout, t.invite, "--invite-timeout"},
                            {a.auth_timeout, t.auth, "--auth-timeout"},
                            {a.accept_timeout, t.accept, "--accept-timeout"},
                            {a.ack_timeout, t.ack, "--ack-timeout"},
                            {a.result_timeout, t.result, "--result-timeout"}};
    for (const auto& f : fields) {
        auto d = parse_duration(f.text, f.option);
        if (!d) return std::move(d).error();
        f.value = *d;
    }
    t.invite_max = std::max(t.invite_max, t.invite);
    return t;
}

int run_push_command(app_context& ctx, const push_args& a) {
    reporter& out = ctx.report();
    auto fail = [&](failure f) { return out.fail("push", f); };

    auto target = net::parse_target(a.target);
    if (!target) return fail(std::move(target).error());
    push_plan plan;
    plan.target_text = a.target;
    plan.target = *target;
    if (a.port) {
        auto port = net::parse_port(*a.port, "--port");
        if (!port) return fail(std::move(port).error());
        if (plan.target.port && *plan.target.port != *port)
            return fail(make_failure(errc::usage_error, "the target says port " + std::to_string(*plan.target.port) +
                                                            " and --port says " + std::to_string(*port),
                                     "give the port once"));
        plan.target.port = *port;
    }
    plan.ports = plan.target.port ? std::vector<std::uint16_t>{*plan.target.port} : default_device_ports;
    plan.host_ip = a.host_ip;
    if (a.host_port) {
        auto port = net::parse_port(*a.host_port, "--host-port");
        if (!port) return fail(std::move(port).error());
        plan.host_port = *port;
    }
    if (a.window < 1 || a.window > 1024)
        return fail(make_failure(errc::usage_error, "--window must be 1 to 1024 chunks",
                                 "1 is espota.py's stop-and-wait; the default is " + std::to_string(espota::default_window)));
    plan.window = a.window;
    auto times = parse_timeouts(a);
    if (!times) return fail(std::move(times).error());
    plan.times = *times;
    plan.cmd = a.filesystem ? espota::command::filesystem : espota::command::flash;

    password_inputs secrets;
    secrets.auth_arg = a.auth;
    secrets.file = a.password_file;
    secrets.from_stdin = a.password_stdin;
    secrets.hash = a.password_hash;
    secrets.env = env("OTAFLASH_PASSWORD");
    auto password = resolve_password(secrets, system_password_readers());
    if (!password) return fail(std::move(password).error());
    for (auto& w : password->warnings) out.warn(w);
    plan.password = std::move(*password);

    preflight_request checks;
    checks.filesystem = a.filesystem;
    checks.chip_name = a.chip;
    checks.pico_port = plan.ports.size() == 1 && plan.ports.front() == 2040;
    auto image = load_push_image(a.file, a.prefer_signed, checks);
    if (!image) return fail(std::move(image).error());
    for (auto& w : image->warnings) out.warn(w);
    for (auto& n : image->notes) out.line("note: " + n);
    plan.image_path = image->path;
    plan.image = std::move(image->data);
    plan.image_facts = std::move(image->facts);

    push_outcome result = run_push(ctx, std::move(plan));
    for (auto& w : result.warnings) out.warn(w);
    if (result.error) return out.fail("push", *result.error, std::move(result.result));
    out.line(result.summary);
    return out.succeed("push", std::move(result.result));
}

}  // namespace

void register_push(CLI::App& app, app_context& ctx) {
    auto* sub = app.add_subcommand("push", "Send a firmware or filesystem image to an ArduinoOTA device over the air");
    auto a = std::make_shared<push_args>();
    sub->add_option("FILE", a->file, "The image to send (the application .bin, or a filesystem image with --fs)")
        ->required();
    sub->add_option("TARGET", a->target,
                    "The device: HOST, HOST:PORT, [IPv6]:PORT or an IPv6 literal; without a port, 3232, 8266 and "
                    "2040 are tried")
        ->required();

    const char* connection = "Connection";
    sub->add_option("--port", a->port, "The device's UDP port (default: try 3232, 8266, 2040)")
        ->envname("OTAFLASH_OTA_PORT")
        ->group(connection);
    sub->add_option("--host-ip", a->host_ip,
                    "Local address for the device to dial back (default: the one on the route to it; 0.0.0.0 or :: "
                    "listens on all)")
        ->envname("OTAFLASH_HOST_IP")
        ->group(connection);
    sub->add_option("--host-port", a->host_port, "Fixed TCP port for the connect-back, for firewall rules (default: random)")
        ->envname("OTAFLASH_HOST_PORT")
        ->group(connection);
    sub->add_option("--window", a->window, "Chunks of 1460 bytes in flight; 1 = espota.py's stop-and-wait")
        ->default_val(espota::default_window)
        ->group(connection);

    const char* image = "Image";
    sub->add_flag("--fs", a->filesystem, "Send a filesystem (SPIFFS/LittleFS) image: replaces the device's filesystem")
        ->group(image);
    sub->add_option("--chip", a->chip, "Refuse an image built for another chip (esp8266, esp32c3, ..., rp2040)")
        ->envname("OTAFLASH_CHIP")
        ->group(image);
    sub->add_flag("--prefer-signed", a->prefer_signed, "Send FILE.signed instead when it exists (esp8266 signed builds)")
        ->group(image);

    const char* auth = "Authentication (OTAFLASH_PASSWORD is read when no option gives the password)";
    auto* file_opt = sub->add_option("--password-file", a->password_file, "Read the password from the first line of FILE")
                         ->group(auth);
    auto* stdin_opt = sub->add_flag("--password-stdin", a->password_stdin, "Read the password from the first line of stdin")
                          ->group(auth);
    auto* hash_opt = sub->add_option("--password-hash", a->password_hash,
                                     "The hash the device stores (setPasswordHash): 32 hex MD5 or 64 hex SHA-256")
                         ->group(auth);
    auto* auth_opt = sub->add_option("--auth", a->auth, "The password itself (visible in the process list: avoid)")
                         ->group(auth);
    file_opt->excludes(stdin_opt)->excludes(hash_opt)->excludes(auth_opt);
    stdin_opt->excludes(hash_opt)->excludes(auth_opt);
    hash_opt->excludes(auth_opt);

    const char* timeouts = "Timeouts (500ms, 10s, 1.5s, 2m)";
    sub->add_option("--invite-timeout", a->invite_timeout, "Wait for an answer to the first invitation; doubles per retry up to 10s")
        ->default_str("2s")
        ->group(timeouts);
    sub->add_option("--invite-retries", a->invite_retries, "Invitations sent again when unanswered")
        ->default_val(a->invite_retries)
        ->group(timeouts);
    sub->add_option("--auth-timeout", a->auth_timeout, "Wait for the answer to the password")->default_str("10s")->group(timeouts);
    sub->add_option("--accept-timeout", a->accept_timeout, "Wait for the device to connect back")
        ->default_str("10s")
        ->group(timeouts);
    sub->add_option("--ack-timeout", a->ack_timeout, "Fail when the transfer makes no progress this long")
        ->default_str("10s")
        ->group(timeouts);
    sub->add_option("--result-timeout", a->result_timeout, "After the last byte, wait this long for OK or an error")
        ->default_str("60s")
        ->group(timeouts);

    sub->footer(
        "Exit status: 0 the device confirmed (OK); 4 bad image or option value; 5 no answer or no connect-back;\n"
        "6 authentication; 7 transfer broke or the device reported an error; 8 the device's check of the image\n"
        "failed; 9 local address/port unusable; 10 sent but not confirmed; 11 device refused; 130/143 interrupted.\n\n"
        "Examples:\n"
        "  otaflash push build/app.bin 192.168.1.50                 try ports 3232, 8266, 2040\n"
        "  OTAFLASH_PASSWORD=secret otaflash push app.bin esp.local:3232\n"
        "  otaflash push --fs --password-file ~/.ota-pass littlefs.bin 192.168.1.50:8266\n"
        "  otaflash push --host-port 40000 app.bin 10.0.0.7          fixed port: one firewall rule\n"
        "  otaflash push --json app.bin '[fe80::1%wlan0]:3232' | jq .result.result");
    ctx.on_run(sub, [a](app_context& c) { return run_push_command(c, *a); });
}

}  // namespace otaflash::cli
