// `otaflash verify [--chip NAME] FILE...`: every check of every file. Exit 0 only when all pass;
// otherwise the most severe failure decides (README "verify"): internal error 1, then invalid
// input 4 (unreadable, not an image, malformed, chip mismatch), then verification 8.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/commands/image_report.hpp"
#include "cli/commands/verify_port.hpp"

#include <otaflash/image/firmware_file.hpp>
#include <otaflash/crypto/digest.hpp>
#include <otaflash/io/file.hpp>
#include <otaflash/util/hex.hpp>

#include <CLI/CLI.hpp>

#include <memory>

namespace otaflash::cli {
namespace {
using nlohmann::json;
using namespace otaflash::image;

struct verify_args {
    std::string chip_name;
    std::vector<std::string> paths;
    rom_connection_args connection;  // with --port: compare the device's flash instead
};

int severity(errc code) noexcept {
    switch (condition_of(code)) {
    case condition::internal: return 3;
    case condition::input: return 2;
    case condition::verification: return 1;
    default: return 3;  // nothing else is expected from verify: treat as a bug
    }
}

// One failing check or file-level failure, as the final error reports it.
struct problem {
    std::string path;
    failure what;
};

void keep_worst(std::optional<problem>& worst, problem p) {
    if (!worst || severity(p.what.code) > severity(worst->what.code)) worst = std::move(p);
}

int run_verify(app_context& ctx, const verify_args& args) {
    if (!args.connection.port.empty()) return run_verify_port(ctx, args.connection, args.chip_name, args.paths);
    analyze_options options;
    if (!args.chip_name.empty()) {
        const chip_info* c = find_chip(args.chip_name);
        if (!c)
            return ctx.report().fail("verify", make_failure(errc::usage_error, "unknown chip '" + args.chip_name + "'",
                                                            "--chip takes one of: " + chip_name_list()));
        options.expected_chip = c->id;
    }

    reporter& out = ctx.report();
    json files = json::array();
    std::optional<problem> worst;
    std::size_t failed_files = 0, failures = 0;
    for (const auto& path : args.paths) {
        json entry = {{"path", path}, {"ok", false}, {"chip", nullptr}, {"kind", nullptr},
                      {"checks", json::array()}, {"notes", json::array()}, {"error", nullptr}};
        auto data = read_file_checked(path, refuse_from_head);
        if (data) {
            // What was checked, by its digest (the audit log records it).
            entry["size"] = data->size();
            entry["sha256"] = to_hex(sha256(*data));
        }
        auto file = data ? analyze_firmware(*data, options) : result<firmware_file>(data.error());
        if (!file) {
            const failure& f = file.error();
            entry["error"] = {{"code", code_name(f.code)}, {"message", f.message}, {"hint", f.hint}};
            out.line(path + ": FAILED");
            out.line("  " + f.message);
            keep_worst(worst, {path, f});
            ++failed_files;
            ++failures;
            files.push_back(std::move(entry));
            continue;
        }
        entry["ok"] = file->ok();
        entry["chip"] = file->target ? json(name(*file->target)) : json(nullptr);
        entry["kind"] = kind_name(file->kind);
        entry["checks"] = checks_json(file->checks);
        entry["notes"] = file->notes;
        out.line(path + ": " + (file->ok() ? "ok" : "FAILED") + " (" + file_summary(*file) + ")");
        for (const auto& c : file->checks) {
            out.line(std::string{c.ok ? "  ok    " : "  FAIL  "} + check_line(c));
            if (c.ok) continue;
            ++failures;
            keep_worst(worst, {path, make_failure(c.code, check_line(c), c.hint)});
        }
        for (const auto& n : file->notes) out.line("  note  " + n);
        if (!file->ok()) ++failed_files;
        files.push_back(std::move(entry));
    }

    json result = {{"files", std::move(files)},
                   {"passed", args.paths.size() - failed_files},
                   {"failed", failed_files}};
    if (!worst) return out.succeed("verify", std::move(result));

    failure summary = worst->what;
    summary.message = worst->path + ": " + summary.message;
    if (failures > 1)
        summary.message += " (" + std::to_string(failures - 1) + " more failure" + (failures > 2 ? "s" : "") + "; " +
                           std::to_string(failed_files) + " of " + std::to_string(args.paths.size()) +
                           " files failed)";
    return out.fail("verify", summary, std::move(result));
}

}  // namespace

void register_verify(CLI::App& app, app_context& ctx) {
    auto* sub = app.add_subcommand("verify", "Check firmware files offline: checksum, SHA-256 digest, structure, "
                                             "partition table, and the chip with --chip");
    auto args = std::make_shared<verify_args>();
    sub->add_option("--chip", args->chip_name, "Fail (exit 4) unless every file is built for this chip, e.g. esp32c3")
        ->envname("OTAFLASH_CHIP");
    sub->add_option("FILE", args->paths, "Firmware files to check; with --port: [OFFSET] FILE pairs to compare")->required();
    add_rom_connection_options(sub, args->connection, false);
    sub->footer(
        "Exit status: 0 all checks passed; 8 a check failed on a well-formed image; 4 a file is missing,\n"
        "unreadable, not an image, malformed or for another chip (4 wins over 8 when files differ).\n\n"
        "With --port, the files are compared with the device's flash by MD5 instead (FILE alone: at 0x0;\n"
        "--chip names the chip the device must be): exit 8 names the first differing address; 10 when the\n"
        "ROM cannot compute an MD5 (ESP8266).\n\n"
        "Examples:\n  otaflash verify build/*.bin\n  otaflash verify --chip esp32c3 --json factory.bin | jq .ok\n"
        "  otaflash verify --port /dev/ttyUSB0 0x10000 build/app.bin");
    ctx.on_run(sub, [args](app_context& c) { return run_verify(c, *args); });
}

}  // namespace otaflash::cli
