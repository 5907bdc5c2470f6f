// `otaflash push [options] FILE TARGET...`: one image to ArduinoOTA devices over the air (espota
// protocol): one TARGET as always, or a fleet (several TARGETs, --targets FILE, --discover FILTER)
// with bounded parallelism, retries, a summary table and one exit rule (fleet_report.hpp).
// Success only on each device's own OK; every other ending has its exit class.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/commands/push_image.hpp"
#include "cli/duration.hpp"
#include "cli/fleet_report.hpp"
#include "cli/fleet_targets.hpp"
#include "cli/push_engine.hpp"
#include "cli/logging.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/io/limits.hpp>
#include <otaflash/net/mdns.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>

namespace otaflash::cli {
namespace {

// Eight at once: the devices share the network's airtime, and beyond a handful of parallel
// uploads on one Wi-Fi channel each goes slower and timeouts get likelier, while the host's cost
// per session is two sockets and a few kilobytes. Raise it for wired or emulated fleets.
constexpr unsigned default_jobs = 8;

struct push_args {
    std::string file;
    std::vector<std::string> targets;
    std::optional<std::string> targets_file;
    std::optional<std::string> discover;
    unsigned jobs = default_jobs;
    unsigned retries = 0;
    std::string retry_delay = "2s";
    bool fail_fast = false;
    std::string mdns_timeout = "3s";
    std::vector<std::string> interfaces;
    std::uint16_t mdns_port = mdns::port;
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
        auto d = parse_duration(f.text, f.option, min_timeout);
        if (!d) return std::move(d).error();
        f.value = *d;
    }
    t.invite_max = std::max(t.invite_max, t.invite);
    return t;
}

result<std::vector<fleet_target>> read_targets_file(const std::string& path) {
    auto text = read_file(path, false, 16u << 20);
    if (!text) return std::move(text).error();
    return parse_targets(as_text(*text), path);
}

// Every device that answers mDNS for _arduino._tcp and matches `filter`; none is an error here.
result<std::vector<mdns::service_instance>> discover_targets(const std::string& filter_text,
                                                             const net::mdns_options& options) {
    auto filter = mdns::parse_txt_filter(filter_text);
    if (!filter) return std::move(filter).error();
    auto found = net::browse(mdns::arduino_service, options, cli_log());
    if (!found) return std::move(found).error();
    std::vector<mdns::service_instance> matching;
    std::copy_if(found->begin(), found->end(), std::back_inserter(matching),
                 [&](const auto& d) { return mdns::matches(d, *filter); });
    if (matching.empty())
        return make_failure(errc::host_not_found,
                            "no device answered mDNS for _arduino._tcp" +
                                (filter_text.empty() ? std::string{} : " matching '" + filter_text + "'") + " within " +
                                std::to_string(options.timeout.count()) + " ms (" + std::to_string(found->size()) +
                                " answered in all)",
                            "'otaflash discover' lists who answers and their TXT records; check the filter, or wait "
                            "longer with --mdns-timeout");
    return matching;
}

// Devices whose own chip (chip= in a targets file) the image is not for: refused before the run.
void check_device_chips(std::vector<push_device>& devices, byte_view image, bool filesystem, const std::string& chip) {
    for (auto& d : devices) {
        auto own = d.facts.find("chip");
        if (own == d.facts.end() || *own == chip) continue;
        preflight_request checks;
        checks.image = image;
        checks.filesystem = filesystem;
        checks.chip_name = own->get<std::string>();
        auto verdict = preflight_image(checks);
        if (!verdict) d.refused = std::move(verdict).error();
    }
}

int report_fleet(app_context& ctx, const push_settings& settings, const run_outcome& run) {
    reporter& out = ctx.report();
    nlohmann::json devices = nlohmann::json::array();
    std::set<std::string> warned;
    for (const auto& d : run.devices) {
        devices.push_back(d.result);
        for (const auto& w : d.warnings)
            if (warned.insert(w).second) out.warn(d.result.value("label", "") + ": " + w);
    }
    nlohmann::json result = {{"image", image_json(settings)}, {"devices", devices}, {"totals", totals_json(run.devices, run.duration_ms)}};
    out.line("");
    for (const auto& row : summary_table(run.devices)) out.line(row);
    out.line(totals_line(run.devices, run.duration_ms));
    if (run.interrupted) return out.fail("push", *run.interrupted, std::move(result));
    if (auto failed = fleet_failure(run.devices)) return out.fail("push", *failed, std::move(result));
    return out.succeed("push", std::move(result));
}

int run_push_command(app_context& ctx, const push_args& a) {
    reporter& out = ctx.report();
    auto fail = [&](failure f) { return out.fail("push", f); };

    const bool fleet = a.targets.size() > 1 || a.targets_file || a.discover;
    if (a.targets.empty() && !fleet)
        return fail(make_failure(errc::usage_error, "no device given",
                                 "give a TARGET (e.g. 192.168.1.50), --targets FILE or --discover FILTER"));
    if (a.jobs < 1 || a.jobs > 1024)
        return fail(make_failure(errc::usage_error, "--jobs must be 1 to 1024",
                                 "the default, " + std::to_string(default_jobs) + ", suits one Wi-Fi network"));
    if (a.retries > 100)
        return fail(make_failure(errc::usage_error, "--retries must be 0 to 100", "1 or 2 get past a device that was rebooting"));
    std::optional<std::uint16_t> port;
    if (a.port) {
        auto parsed = net::parse_port(*a.port, "--port");
        if (!parsed) return fail(std::move(parsed).error());
        port = *parsed;
    }
    push_settings settings;
    settings.host_ip = a.host_ip;
    if (a.host_port) {
        auto parsed = net::parse_port_range(*a.host_port, "--host-port");
        if (!parsed) return fail(std::move(parsed).error());
        settings.host_ports.fixed = *parsed;
    }
    if (a.window < 1 || a.window > 1024)
        return fail(make_failure(errc::usage_error, "--window must be 1 to 1024 chunks",
                                 "1 is espota.py's stop-and-wait; the default is " + std::to_string(espota::default_window)));
    settings.window = a.window;
    auto times = parse_timeouts(a);
    if (!times) return fail(std::move(times).error());
    settings.times = *times;
    settings.cmd = a.filesystem ? espota::command::filesystem : espota::command::flash;
    auto mdns_timeout = parse_duration(a.mdns_timeout, "--mdns-timeout", min_timeout);
    if (!mdns_timeout) return fail(std::move(mdns_timeout).error());
    settings.mdns.timeout = *mdns_timeout;
    settings.mdns.interfaces = a.interfaces;
    settings.mdns.port = a.mdns_port;
    auto retry_delay = parse_duration(a.retry_delay, "--retry-delay", std::chrono::milliseconds{0});
    if (!retry_delay) return fail(std::move(retry_delay).error());

    password_inputs secrets;
    secrets.auth_arg = a.auth;
    secrets.file = a.password_file;
    secrets.from_stdin = a.password_stdin;
    secrets.hash = a.password_hash;
    secrets.env = env("OTAFLASH_PASSWORD");
    const auto readers = system_password_readers();
    auto password = resolve_password(secrets, readers);
    if (!password) return fail(std::move(password).error());
    for (auto& w : password->warnings) out.warn(w);

    device_sources sources;
    sources.arguments = a.targets;
    sources.port = port;
    if (a.targets_file) {
        auto listed = read_targets_file(*a.targets_file);
        if (!listed) return fail(std::move(listed).error());
        sources.listed = std::move(*listed);
        sources.listed_from = *a.targets_file;
    }
    if (a.discover) {
        auto found = discover_targets(*a.discover, settings.mdns);
        if (!found) return fail(std::move(found).error());
        sources.discovered = std::move(*found);
    }
    auto devices = fleet_devices(sources, *password, readers, [](const std::string& name) { return env(name.c_str()); });
    if (!devices) return fail(std::move(devices).error());
    if (std::any_of(devices->begin(), devices->end(), [](const push_device& d) { return !d.expected_board.empty(); })) {
        // What each device advertises, for the targets file's board= (one browse for the fleet).
        auto advertised = net::browse(mdns::arduino_service, settings.mdns, cli_log());
        if (!advertised && condition_of(advertised.error().code) == condition::interrupted)
            return fail(std::move(advertised).error());
        if (!advertised) out.warn("board= of the targets file not checked: " + advertised.error().message);
        for (auto& w : check_boards(*devices, advertised ? *advertised : std::vector<mdns::service_instance>{}))
            out.warn(w);
    }

    preflight_request checks;
    checks.filesystem = a.filesystem;
    checks.chip_name = a.chip;
    checks.pico_port = std::all_of(devices->begin(), devices->end(), [](const push_device& d) {
        return d.ports.size() == 1 && d.ports.front() == 2040;
    });
    auto image = load_push_image(a.file, a.prefer_signed, checks);
    if (!image) return fail(std::move(image).error());
    for (auto& w : image->warnings) out.warn(w);
    for (auto& n : image->notes) out.line("note: " + n);
    settings.image_path = image->path;
    settings.image = std::move(image->data);
    settings.image_facts = std::move(image->facts);
    check_device_chips(*devices, settings.image, a.filesystem, a.chip);

    run_policy policy;
    policy.retries = a.retries;
    policy.retry_delay = *retry_delay;
    policy.fail_fast = a.fail_fast;
    if (!fleet) {
        devices->front().label.clear();  // one device: lines without a prefix, as always
        policy.may_prompt = ctx.may_prompt();
        push_outcome result = run_push(ctx, settings, std::move(devices->front()), policy);
        for (auto& w : result.warnings) out.warn(w);
        if (result.error) return out.fail("push", *result.error, std::move(result.result));
        out.line(result.summary);
        return out.succeed("push", std::move(result.result));
    }

    // Two sockets per running session, and some to spare (standard streams, listeners, the loop).
    constexpr std::uint64_t spare = 32;
    const std::uint64_t open_files = raise_open_files_limit(2ull * a.jobs + spare);
    policy.jobs = a.jobs;
    if (open_files < 2ull * a.jobs + spare) {
        policy.jobs = static_cast<unsigned>(std::max<std::uint64_t>(1, open_files > spare + 2 ? (open_files - spare) / 2 : 1));
        out.warn("this process may open only " + std::to_string(open_files) + " files (ulimit -n), so " +
                 std::to_string(policy.jobs) + " devices run at once instead of " + std::to_string(a.jobs) +
                 "; raise the hard limit to run more");
    }
    auto print_device = [&](const device_outcome& d) {
        const std::string label = d.result.value("label", "");
        out.line("[" + label + "] " + d.summary + (d.error ? ": " + d.error->message : std::string{}));
    };
    run_outcome run = run_pushes(ctx, settings, std::move(*devices), policy, print_device);
    if (run.refused) return fail(*run.refused);
    return report_fleet(ctx, settings, run);
}

}  // namespace

void register_push(CLI::App& app, app_context& ctx) {
    auto* sub = app.add_subcommand("push", "Send a firmware or filesystem image to an ArduinoOTA device over the air");
    auto a = std::make_shared<push_args>();
    sub->add_option("FILE", a->file, "The image to send (the application .bin, or a filesystem image with --fs)")
        ->required();
    sub->add_option("TARGET", a->targets,
                    "The devices: HOST, HOST:PORT, [IPv6]:PORT or an IPv6 literal (name.local through mDNS); "
                    "without a port, 3232, 8266 and 2040 are tried. Several make a fleet run");

    const char* connection = "Connection";
    sub->add_option("--port", a->port, "The device's UDP port (default: try 3232, 8266, 2040)")
        ->envname("OTAFLASH_OTA_PORT")
        ->group(connection);
    sub->add_option("--host-ip", a->host_ip,
                    "Local address for the device to dial back (default: the one on the route to it; 0.0.0.0 or :: "
                    "listens on all)")
        ->envname("OTAFLASH_HOST_IP")
        ->group(connection);
    sub->add_option("--host-port", a->host_port,
                    "TCP port (40000) or range (40000-40063) for the connect-back, for firewall rules (default: "
                    "random); devices sharing an address each need one of the range to run at once")
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

    const char* fleet = "Fleets (several TARGETs, --targets or --discover)";
    sub->add_option("--targets", a->targets_file,
                    "Devices from FILE: lines 'TARGET key=value...' or a JSON inventory (label, password_env, "
                    "password_file, chip, board: refused unless the device advertises it over mDNS)")
        ->group(fleet);
    sub->add_option("--discover", a->discover,
                    "Push to every device that answers mDNS and matches TXT FILTER, e.g. board=d1_mini ('' for all)")
        ->group(fleet);
    sub->add_option("--jobs", a->jobs, "Devices updated at once, in one process and one event loop")
        ->default_val(default_jobs)
        ->group(fleet);
    sub->add_option("--retries", a->retries,
                    "Try a device again this many times after it was unreachable, its transfer broke or went "
                    "unconfirmed (never after auth, a refusal or bad input)")
        ->default_val(0)
        ->group(fleet);
    sub->add_option("--retry-delay", a->retry_delay, "Wait before trying a device again")->default_str("2s")->group(fleet);
    sub->add_flag("--fail-fast", a->fail_fast,
                  "At the first device that fails for good, start no more and reset the connections of the rest")
        ->group(fleet);

    const char* mdns_group = "mDNS (name.local targets and --discover)";
    sub->add_option("--mdns-timeout", a->mdns_timeout, "How long to wait for mDNS answers")
        ->default_str("3s")
        ->group(mdns_group);
    sub->add_option("--interface", a->interfaces,
                    "IPv4 address of an interface to ask on (repeatable; default: every interface that is up)")
        ->group(mdns_group);
    sub->add_option("--mdns-port", a->mdns_port, "UDP port of the mDNS group (tests only; default 5353)")
        ->group(mdns_group);

    sub->footer(
        "Exit status: 0 the device confirmed (OK); 2 bad option or option value; 4 bad image or target;\n"
        "5 no answer or no connect-back; 6 authentication; 7 transfer broke or the device reported an error;\n"
        "8 the device's check of the image failed; 9 local address/port unusable; 10 sent but not confirmed;\n"
        "11 device refused; 130/143 interrupted (after the last byte: result unconfirmed, the update may\n"
        "have been applied).\n"
        "Fleets: 0 every device updated; one class's code when none was and all failed alike; otherwise 12.\n\n"
        "Examples:\n"
        "  otaflash push build/app.bin 192.168.1.50                 try ports 3232, 8266, 2040\n"
        "  OTAFLASH_PASSWORD=secret otaflash push app.bin esp.local:3232\n"
        "  otaflash push --fs --password-file ~/.ota-pass littlefs.bin 192.168.1.50:8266\n"
        "  otaflash push --host-port 40000 app.bin 10.0.0.7          fixed port: one firewall rule\n"
        "  otaflash push --json app.bin '[fe80::1%wlan0]:3232' | jq .result.result\n"
        "  otaflash push --targets fleet.txt --jobs 16 --retries 2 --host-port 40000 app.bin\n"
        "  otaflash push --targets behind-nat.txt --jobs 64 --host-port 40000-40063 app.bin   one address, many ports\n"
        "  otaflash push --discover board=d1_mini --fail-fast app.bin");
    ctx.on_run(sub, [a](app_context& c) { return run_push_command(c, *a); });
}

}  // namespace otaflash::cli
