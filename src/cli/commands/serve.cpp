// `otaflash serve [OPTIONS] RELEASE...`: the update server for devices that pull. This file parses
// the options, loads and checks the releases (before anything listens), builds the catalog and
// the transports, and hands them to run_serve (cli/serve_run.hpp).

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/commands/serve_mqtt.hpp"
#include "cli/commands/serve_http.hpp"
#include "cli/duration.hpp"
#include "cli/release_args.hpp"
#include "cli/serve_run.hpp"

#include <otaflash/release/catalog.hpp>

#include <CLI/CLI.hpp>

#include <charconv>

namespace otaflash::cli {
namespace {

struct serve_options {
    release_args releases;
    std::vector<std::string> expect;
    std::string deadline;
    std::string grace = "10s";
    std::vector<std::string> allow;
    std::vector<std::string> pins;
    unsigned rollout = 100;
    mqtt_cli_options mqtt;
    http_serve_options http;
};

result<release::policy> make_policy(const serve_options& o) {
    release::policy rules;
    auto allowed = read_expected(o.allow);  // same FILE|MAC shape as --expect
    if (!allowed) return std::move(allowed).error();
    for (const auto& id : *allowed) {
        auto mac = release::normalize_mac(id);
        if (!mac) return make_failure(errc::usage_error, "--allow: '" + id + "' is not a MAC address", "write AA:BB:CC:DD:EE:FF");
        rules.allow.push_back(*mac);
    }
    for (const auto& pin : o.pins) {
        auto eq = pin.find('=');
        auto mac = release::normalize_mac(pin.substr(0, eq == std::string::npos ? pin.size() : eq));
        if (eq == std::string::npos || !mac || eq + 1 == pin.size())
            return make_failure(errc::usage_error, "--pin: '" + pin + "' is not MAC=VERSION", "e.g. --pin AA:BB:CC:DD:EE:FF=2.3.1");
        rules.pins[*mac] = pin.substr(eq + 1);
    }
    if (o.rollout > 100) return make_failure(errc::usage_error, "--rollout takes a percentage, 0 to 100", {});
    rules.rollout_percent = o.rollout;
    return rules;
}

int run(app_context& ctx, const serve_options& o) {
    auto& out = ctx.report();
    out.stream_events();  // a failure before serving is the summary line too
    serve_settings settings;
    auto grace = parse_duration(o.grace, "--grace", std::chrono::milliseconds(0));
    if (!grace) return out.fail("serve", grace.error());
    settings.grace = *grace;
    if (!o.deadline.empty()) {
        auto deadline = parse_duration(o.deadline, "--deadline", min_timeout);
        if (!deadline) return out.fail("serve", deadline.error());
        settings.deadline = *deadline;
    }
    auto expected = read_expected(o.expect);
    if (!expected) return out.fail("serve", expected.error());
    settings.expect = std::move(*expected);
    auto rules = make_policy(o);
    if (!rules) return out.fail("serve", rules.error());

    auto releases = load_releases(o.releases);
    if (!releases) return out.fail("serve", releases.error());
    release::catalog catalog(std::move(*releases), std::move(*rules));

    std::vector<std::unique_ptr<serve::backend>> backends;  // the transports plug in here
    auto mqtt = make_mqtt_serve_backend(o.mqtt, settings.expect);
    if (!mqtt) return out.fail("serve", mqtt.error());
    // With --mqtt and no --listen, no HTTP listener is opened.
    if (!*mqtt || !o.http.listen.empty()) {
        auto http = make_http(o.http);
        if (!http) return out.fail("serve", http.error());
        backends.push_back(std::move(*http));
    } else if (!o.http.tls_cert.empty() || !o.http.tls_key.empty() || !o.http.device_user.empty() ||
               !o.http.device_token_file.empty() || !o.http.device_password_file.empty() || !o.http.fota_type.empty()) {
        return out.fail("serve", make_failure(errc::usage_error, "HTTP options given with --mqtt, and no --listen",
                                              "add --listen ADDR:PORT to serve HTTP too"));
    }
    if (*mqtt) backends.push_back(std::move(*mqtt));
    return run_serve(catalog, std::move(backends), settings, out);
}

}  // namespace

void register_serve(CLI::App& app, app_context& ctx) {
    auto opts = std::make_shared<serve_options>();
    auto* sub = app.add_subcommand("serve", "Serve firmware to devices that pull it (HTTP/HTTPS, MQTT)");
    add_release_args(*sub, opts->releases, "served");
    sub->add_option("--expect", opts->expect,
                    "A device (MAC; with --mqtt its client id) or a file of them, one a line, that must fetch the release "
                    "(repeatable)");
    sub->add_option("--deadline", opts->deadline, "With --expect: give up after this long (e.g. 30m)");
    sub->add_option("--grace", opts->grace, "On SIGINT/SIGTERM, time for transfers in flight to finish")->default_str("10s");
    sub->add_option("--allow", opts->allow, "Serve only these MACs (a MAC or a file of them; repeatable)");
    sub->add_option("--pin", opts->pins, "MAC=VERSION: this device gets that version (repeatable)");
    sub->add_option("--rollout", opts->rollout,
                    "Percentage of devices (by a stable hash of the MAC) offered the newest release; the rest get "
                    "the previous one")
        ->default_str("100");
    add_mqtt_options(*sub, opts->mqtt);
    add_http_options(*sub, opts->http);
    sub->footer(
        "Devices get 304 when their sketch MD5 is the release's or their version is not older (semantic\n"
        "versions when both are, else any different text is an update), 403 for another chip or too\n"
        "little flash; every request is one line on stdout (JSON Lines with --json).\n\n"
        "Exit status: 0 every --expect device has the release; 2 bad option; 3 bad releases.json;\n"
        "4 bad image, certificate or key; 6 --device-user without a password; 9 address/port unusable;\n"
        "10 deadline passed, devices missing; 12 deadline passed, a device failed; 13 stdout unwritable;\n"
        "130/143 interrupted.\n\n"
        "Examples:\n"
        "  otaflash serve build/app.bin --version 2.4.0                 devices pull from :8070\n"
        "  otaflash serve --listen 0.0.0.0:8443 --tls-cert c.pem --tls-key k.pem releases/\n"
        "  otaflash serve app.bin --listen http://0.0.0.0:8070 --listen https://0.0.0.0:8443 --tls-cert c.pem --tls-key k.pem\n"
        "  otaflash serve app.bin --version 2.4.0 --expect macs.txt --deadline 30m   CI: exit when all have it\n"
        "  OTAFLASH_DEVICE_PASSWORD=… otaflash serve app.bin --device-user ota --rollout 10");
    ctx.on_run(sub, [opts](app_context& c) { return run(c, *opts); });
}

}  // namespace otaflash::cli
