// Exit 0 when every region's MD5 on the device equals the file's; 8 (flash_md5_mismatch) naming
// the first differing region and address otherwise; 10 (verify_unsupported) where the ROM cannot
// compute an MD5 (ESP8266, Secure Download Mode): then nothing was compared.

#include "cli/commands/verify_port.hpp"

#include "cli/logging.hpp"

#include <otaflash/util/hex.hpp>

namespace otaflash::cli {

namespace {
using nlohmann::json;

json difference_json(const rom::difference& d) {
    json j = {{"start", d.start}, {"end", d.end}, {"address", nullptr}};
    if (d.first_byte) {
        j["address"] = *d.first_byte;
        j["flash_byte"] = d.device;
        j["file_byte"] = d.expected;
    }
    return j;
}
}  // namespace

int run_verify_port(app_context& ctx, const rom_connection_args& connection, const std::string& chip_name,
                    const std::vector<std::string>& items) {
    reporter& out = ctx.report();
    const chip_info* expected = nullptr;
    if (!chip_name.empty() && chip_name != "auto") {
        expected = find_chip(chip_name);
        if (!expected)
            return out.fail("verify", make_failure(errc::usage_error, "unknown chip '" + chip_name + "'",
                                                   "--chip takes one of: " + chip_name_list()));
    }
    rom::verify_request request;
    if (auto filled = fill_session_request(connection, expected, request); !filled) return out.fail("verify", filled.error());
    auto regions = read_regions(items);
    if (!regions) return out.fail("verify", regions.error());
    request.regions = std::move(*regions);

    warn_about_port(out, connection);
    auto port = open_rom_port(connection);
    if (!port) return out.fail("verify", port.error(), json{{"port", connection.port}});
    auto progress = ctx.progress();
    rom::verify_outcome outcome = rom::verify_regions(**port, cli_log(), request, *progress);
    progress.reset();
    port->reset();

    const rom::verify_report& report = outcome.report;
    for (const auto& w : report.warnings) out.warn(w);
    json result = session_json(report);
    json list = json::array();
    if (auto line = session_line(report); !line.empty()) out.line(line);
    for (const auto& r : report.regions) {
        json entry = {{"file", r.label},       {"offset", r.offset},       {"size", r.size},
                      {"file_md5", r.file_md5}, {"flash_md5", r.flash_md5}, {"match", r.match},
                      {"first_difference", nullptr}};
        if (r.first_difference) entry["first_difference"] = difference_json(*r.first_difference);
        list.push_back(std::move(entry));
        out.line(r.label + " at " + hex32(r.offset) + " (" + std::to_string(r.size) + " bytes): " +
                 (r.match ? "matches the flash (MD5 " + r.file_md5 + ")"
                          : "DIFFERS" + (r.first_difference ? ", first at " + rom::describe(*r.first_difference)
                                                            : std::string{})));
    }
    result["regions"] = std::move(list);
    if (outcome.error) return out.fail("verify", *outcome.error, std::move(result));
    out.line("device: " + report.after);
    return out.succeed("verify", std::move(result));
}

}  // namespace otaflash::cli
