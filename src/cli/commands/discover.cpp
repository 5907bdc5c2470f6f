// otaflash discover: who answers mDNS for _arduino._tcp (ArduinoOTA devices) on this network.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/duration.hpp"

#include <otaflash/net/mdns.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

namespace otaflash::cli {
namespace {

struct discover_options {
    std::string timeout = "3s";
    std::string service = "_arduino._tcp";
    std::vector<std::string> interfaces;
    std::string filter;
    std::uint16_t mdns_port = mdns::port;
};

std::string txt_or(const mdns::service_instance& d, const std::string& key, const std::string& fallback) {
    auto it = d.txt.find(key);
    return it == d.txt.end() || it->second.empty() ? fallback : it->second;
}

nlohmann::json to_json(const mdns::service_instance& d) {
    nlohmann::json txt = nlohmann::json::object();
    for (const auto& [k, v] : d.txt) txt[k] = v;
    auto auth = d.txt.find("auth_upload");
    return {{"name", d.name},
            {"host", d.host},
            {"addresses", d.addresses},
            {"port", d.port},
            {"board", d.txt.count("board") ? nlohmann::json(d.txt.at("board")) : nlohmann::json(nullptr)},
            {"auth_required", auth == d.txt.end() ? nlohmann::json(nullptr) : nlohmann::json(auth->second == "yes")},
            {"resolved", d.resolved()},
            {"txt", txt}};
}

int run_discover(app_context& ctx, const discover_options& o) {
    auto& out = ctx.report();
    auto timeout = parse_duration(o.timeout, "--timeout", min_timeout);
    if (!timeout) return out.fail("discover", timeout.error());
    auto filter = mdns::parse_txt_filter(o.filter);
    if (!filter) return out.fail("discover", filter.error());

    net::mdns_options options;
    options.timeout = *timeout;
    options.interfaces = o.interfaces;
    options.port = o.mdns_port;
    std::string service = o.service;
    if (service.size() < 6 || service.substr(service.size() - 6) != ".local") service += ".local";

    auto found = net::browse(service, options, cli_log());
    if (!found) return out.fail("discover", found.error());
    std::vector<mdns::service_instance> devices;
    std::copy_if(found->begin(), found->end(), std::back_inserter(devices),
                 [&](const auto& d) { return mdns::matches(d, *filter); });

    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : devices) list.push_back(to_json(d));
    if (devices.empty()) {
        out.line("no devices answered for " + service + " within " + o.timeout +
                 (o.filter.empty() ? std::string{} : " matching " + o.filter));
    } else {
        char row[512];
        std::snprintf(row, sizeof row, "%-28s %-16s %-6s %-24s %s", "NAME", "ADDRESS", "PORT", "BOARD", "PASSWORD");
        out.line(row);
        for (const auto& d : devices) {
            const std::string address = d.addresses.empty() ? "(unresolved)" : d.addresses.front();
            const std::string auth = txt_or(d, "auth_upload", "?") == "yes" ? "yes" : txt_or(d, "auth_upload", "?");
            std::snprintf(row, sizeof row, "%-28s %-16s %-6u %-24s %s", d.name.c_str(), address.c_str(),
                          static_cast<unsigned>(d.port), txt_or(d, "board", "-").c_str(), auth.c_str());
            out.line(row);
        }
    }
    // Finding nobody is an answer, not an error: scripts test `devices | length`.
    return out.succeed("discover", {{"service", service}, {"devices", list}});
}

}  // namespace

void register_discover(CLI::App& app, app_context& ctx) {
    auto opts = std::make_shared<discover_options>();
    auto* sub = app.add_subcommand("discover", "List ArduinoOTA devices that answer mDNS (_arduino._tcp)");
    sub->add_option("--timeout", opts->timeout, "How long to listen for answers (e.g. 3s, 1500ms)")->default_str("3s");
    sub->add_option("--service", opts->service, "DNS-SD service type to browse")->default_str("_arduino._tcp");
    sub->add_option("--interface", opts->interfaces,
                    "IPv4 address of an interface to ask on (repeatable; default: every interface that is up)");
    sub->add_option("--filter", opts->filter, "Only devices whose TXT records match, e.g. board=d1_mini,auth_upload=no");
    sub->add_option("--mdns-port", opts->mdns_port, "UDP port of the mDNS group (tests only; default 5353)")
        ->group("Advanced");
    sub->footer(R"(Examples:
  otaflash discover
  otaflash discover --filter board=d1_mini --json | jq -r '.result.devices[].addresses[0]')");
    ctx.on_run(sub, [opts](app_context& c) { return run_discover(c, *opts); });
}

}  // namespace otaflash::cli
