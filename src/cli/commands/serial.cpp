// `otaflash serial -p PORT [options] IMAGE | OFFSET IMAGE [OFFSET IMAGE …]`: write images through
// the ROM serial bootloader, or through esptool's flasher stub when one is found. Exit 0 only when
// the loader accepted every block and, where it can compute one (a stub; ESP32-family ROMs), the
// MD5 of each written region matched. On the ESP8266 ROM without a stub, which cannot verify, the
// result is "written" (not "verified"): exit 0, or 10 with --require-verify.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/commands/rom_connection.hpp"
#include "cli/logging.hpp"

#include <otaflash/util/hex.hpp>

#include <CLI/CLI.hpp>

#include <memory>

namespace otaflash::cli {
namespace {
using nlohmann::json;

struct serial_args {
    rom_connection_args connection;
    std::string chip_name;
    bool compress = false;
    bool no_compress = false;
    bool force = false;
    bool require_verify = false;
    std::vector<std::string> items;
};

double rate(std::uint64_t bytes, rom::duration d) {
    const double s = std::chrono::duration<double>(d).count();
    return s > 0 ? static_cast<double>(bytes) / s : 0.0;
}

json regions_json(const rom::flash_report& report) {
    json out = json::array();
    for (const auto& r : report.regions) {
        out.push_back({{"file", r.label},
                       {"offset", r.offset},
                       {"size", r.size},
                       {"written_offset", r.written_offset},
                       {"written_size", r.written_size},
                       {"md5", r.md5},
                       {"compressed", r.stats.compressed},
                       {"sent_bytes", r.stats.sent},
                       {"blocks", r.stats.blocks},
                       {"retried_blocks", r.stats.retries},
                       {"erase_ms", std::chrono::duration_cast<std::chrono::milliseconds>(r.stats.erase_time).count()},
                       {"write_ms", std::chrono::duration_cast<std::chrono::milliseconds>(r.stats.write_time).count()},
                       {"verified", r.verified}});
    }
    return out;
}

std::string region_line(const rom::written_region& r, bool can_verify) {
    std::string line = "wrote " + r.label + " at " + hex32(r.offset) + ": " + std::to_string(r.size) + " bytes";
    if (r.stats.compressed) line += " (compressed to " + std::to_string(r.stats.sent) + ")";
    line += ", erase " + duration_text(r.stats.erase_time) + ", write " + duration_text(r.stats.write_time);
    const double kib_s = rate(r.written_size, r.stats.write_time) / 1024.0;
    if (kib_s > 0) {
        const auto tenths = static_cast<long long>(kib_s * 10 + 0.5);
        line += " (" + std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " KiB/s)";
    }
    if (r.verified) return line + "; verified (MD5 " + r.md5 + ")";
    return line + (can_verify ? "; NOT verified" : "; written, not verified");
}

int run_serial(app_context& ctx, const serial_args& args) {
    reporter& out = ctx.report();
    const chip_info* expected = nullptr;
    if (!args.chip_name.empty() && args.chip_name != "auto") {
        expected = find_chip(args.chip_name);
        if (!expected)
            return out.fail("serial", make_failure(errc::usage_error, "unknown chip '" + args.chip_name + "'",
                                                   "--chip takes auto or one of: " + chip_name_list()));
    }
    rom::flash_request request;
    if (auto filled = fill_session_request(args.connection, expected, request); !filled)
        return out.fail("serial", filled.error());
    request.compress = !args.no_compress;
    request.force = args.force;
    auto regions = read_regions(args.items);
    if (!regions) return out.fail("serial", regions.error());
    request.regions = std::move(*regions);
    if (auto overlap = rom::check_layout(request.regions)) return out.fail("serial", *overlap);

    warn_about_port(out, args.connection);
    auto port = open_rom_port(args.connection);
    if (!port) return out.fail("serial", port.error(), json{{"port", args.connection.port}});
    auto progress = ctx.progress();
    rom::flash_outcome outcome = rom::flash_regions(**port, cli_log(), request, *progress);
    progress.reset();
    port->reset();  // restores the tty before anything is printed

    rom::flash_report& report = outcome.report;
    for (const auto& w : report.warnings) out.warn(w);
    json result = session_json(report);
    result["regions"] = regions_json(report);
    const bool all_verified =
        !report.regions.empty() && std::all_of(report.regions.begin(), report.regions.end(), [](const auto& r) { return r.verified; });
    result["result"] = outcome.error ? (report.regions.empty() ? "failed" : "incomplete")
                                     : (all_verified ? "verified" : "written");

    if (auto line = session_line(report); !line.empty()) out.line(line);
    for (const auto& r : report.regions) out.line(region_line(r, report.can_verify));
    if (outcome.error) return out.fail("serial", *outcome.error, std::move(result));

    if (!report.can_verify) {
        const std::string why = report.chip && !report.chip->chip->rom_md5
                                    ? "the " + std::string(report.chip->chip->display_name) +
                                          " ROM cannot verify without a flasher stub, see --stub"
                                    : "Secure Download Mode forbids reading the flash back";
        if (args.require_verify)
            return out.fail("serial",
                            make_failure(errc::verify_unsupported,
                                         "written, not verified (" + why + "); --require-verify asks for a verified write",
                                         "every block was accepted by the ROM, which checks each one as it writes it; "
                                         "drop --require-verify to accept that"),
                            std::move(result));
        out.warn("written, not verified (" + why + ")");
    }
    out.line("device: " + report.after);
    return out.succeed("serial", std::move(result));
}

}  // namespace

void register_serial(CLI::App& app, app_context& ctx) {
    auto* sub = app.add_subcommand("serial", "Write images through the ROM serial bootloader (ESP8266, ESP32 family)");
    auto args = std::make_shared<serial_args>();
    add_rom_connection_options(sub, args->connection, true);
    sub->add_option("-c,--chip", args->chip_name, "Expected chip (auto: whatever answers), e.g. esp32c3")
        ->envname("OTAFLASH_CHIP")
        ->default_str("auto")
        ->group("Connection");
    const char* writing = "Writing";
    auto* no = sub->add_flag("--no-compress", args->no_compress, "Send the bytes as they are (default: deflate where the loader inflates)")
                   ->group(writing);
    sub->add_flag("--compress", args->compress, "Deflate where the loader inflates (the default; every stub, ESP32-family ROMs)")
        ->excludes(no)
        ->group(writing);
    sub->add_flag("--force", args->force, "Write images built for another chip, or gzip-compressed files")->group(writing);
    sub->add_flag("--require-verify", args->require_verify,
                  "Fail (exit 10) when the write cannot be verified (ESP8266 ROM without a stub, Secure Download Mode)")
        ->group(writing);
    sub->add_option("IMAGE", args->items, "IMAGE (written at 0x0) or OFFSET IMAGE pairs")->required();
    sub->footer(
        "A single image goes to 0x0. The ROM is reached at 115200 baud, then switched to --baud (the ESP8266 ROM\n"
        "cannot switch; with a flasher stub it can). With esptool's flasher stub (--stub) writes run in 16 KiB\n"
        "blocks programmed while the next one arrives, and every chip can deflate and verify.\n"
        "Exit status: 0 written and verified (ESP8266: written; its ROM cannot verify), 2 usage, 3 unusable\n"
        "--stub file, 4 bad or mismatched image or no stub where --stub points, 5 no answer / not in download\n"
        "mode, 7 transfer or ROM error, 8 MD5 mismatch, 9 port busy or not permitted, 10 not verifiable\n"
        "with --require-verify, 130/143 interrupted.\n\n"
        "Examples:\n"
        "  otaflash serial -p /dev/ttyUSB0 firmware.bin\n"
        "  otaflash serial -p /dev/ttyUSB0 0x1000 bootloader.bin 0x8000 partitions.bin 0x10000 app.bin\n"
        "  OTAFLASH_PORT=/dev/ttyACM0 otaflash serial --before usb-reset --json app.bin | jq .result.result");
    ctx.on_run(sub, [args](app_context& c) { return run_serial(c, *args); });
}

}  // namespace otaflash::cli
