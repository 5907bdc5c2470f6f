// `otaflash info FILE`: every fact about a firmware file. It describes; `verify` judges, so a
// failed check is shown here but does not change the exit status.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/commands/image_report.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/image/firmware_file.hpp>
#include <otaflash/io/file.hpp>
#include <otaflash/util/hex.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>

namespace otaflash::cli {
namespace {
using namespace otaflash::image;

// Key/value lines with the values in one column.
class fields {
public:
    void add(std::string key, std::string value) { rows_.emplace_back(std::move(key), std::move(value)); }
    void print(reporter& out, const std::string& indent = {}) const {
        std::size_t width = 0;
        for (const auto& r : rows_) width = std::max(width, r.first.size());
        for (const auto& r : rows_) out.line(indent + r.first + std::string(width + 2 - r.first.size(), ' ') + r.second);
    }

private:
    std::vector<std::pair<std::string, std::string>> rows_;
};

// A table whose columns are as wide as their widest cell.
void print_table(reporter& out, const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    for (const auto& row : rows) {
        std::string line = indent;
        for (std::size_t i = 0; i < row.size(); ++i)
            line += i + 1 == row.size() ? row[i] : row[i] + std::string(width[i] + 2 - row[i].size(), ' ');
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out.line(line);
    }
}

std::string validity(bool ok) { return ok ? "valid" : "INVALID"; }

void print_image(reporter& out, const embedded_image& e) {
    out.line("");
    if (!e.image) {
        out.line(e.label + " at " + hex_offset(e.offset) + ": " + e.problem);
        return;
    }
    const image_info& im = *e.image;
    out.line(e.label + " at " + hex_offset(e.offset) + " (" + std::string{format_name(im.format)} + " format)");
    fields f;
    f.add("Chip", std::string{name(im.target)} + " (" + im.detection + ")");
    f.add("Role", im.role == image_role::application
                      ? std::string("application")
                      : std::string(im.role == image_role::bootloader ? "second-stage bootloader" : "RAM program") +
                            " (" + im.role_reason + ")");
    f.add("Entry point", hex32(im.entry));
    f.add("Segments", std::to_string(im.segments.size()));
    f.add("Flash mode", std::string{flash_mode_name(im.flash_mode)});
    f.add("Flash size", flash_size_name(im));
    f.add("Flash frequency", flash_freq_name(im));
    if (im.ext) {
        const auto& x = *im.ext;
        f.add("WP pin", hex_digits(x.wp_pin, 2) + (x.wp_pin == 0xEE ? " (disabled)" : ""));
        f.add("Drive settings", "clk " + std::to_string(x.clk_drv) + ", q " + std::to_string(x.q_drv) + ", d " +
                                    std::to_string(x.d_drv) + ", cs " + std::to_string(x.cs_drv) + ", hd " +
                                    std::to_string(x.hd_drv) + ", wp " + std::to_string(x.wp_drv));
        f.add("Chip id", std::to_string(x.chip_id));
        f.add("Chip revision", "min " + format_revision(x.min_rev_full) + ", max " + format_revision(x.max_rev_full) +
                                   (x.max_rev_full == 0xFFFF ? " (no limit)" : "") + "; legacy min " +
                                   std::to_string(x.min_rev));
        f.add("Hash appended", std::to_string(x.hash_appended));
    }
    f.add("Checksum", hex_digits(im.checksum_stored, 2) + " " + validity(im.checksum_ok()) +
                          (im.checksum_ok() ? "" : " (computed " + hex_digits(im.checksum_computed, 2) + ")") +
                          " at " + hex_offset(e.offset + im.checksum_offset));
    if (im.digest)
        f.add("SHA-256 digest", to_hex(im.digest->stored) + " " + validity(im.digest->ok()) +
                                    (im.digest->ok() ? "" : " (computed " + to_hex(im.digest->computed) + ")"));
    else if (im.format != image_format::esp8266_v1 && im.format != image_format::esp8266_v2)
        f.add("SHA-256 digest", "not appended");
    if (im.crc32)
        f.add("CRC-32", hex32(im.crc32->stored) + " " + validity(im.crc32->ok()) +
                            (im.crc32->ok() ? "" : " (computed " + hex32(im.crc32->computed) + ")"));
    f.add("Image size", std::to_string(im.size) + " bytes");
    f.print(out, "  ");

    out.line("");
    std::vector<std::vector<std::string>> rows{{"Segment", "Length", "Load address", "File offset (header)", "Region"}};
    if (im.irom)
        rows.push_back({"irom", hex32(im.irom->length), "(flash)", hex_offset(e.offset + im.irom->header_offset), "IROM"});
    for (std::size_t i = 0; i < im.segments.size(); ++i) {
        const auto& s = im.segments[i];
        rows.push_back({std::to_string(i), hex32(s.length), hex32(s.load_address), hex_offset(e.offset + s.header_offset),
                        s.region.empty() ? "-" : std::string{s.region}});
    }
    print_table(out, rows, "  ");

    if (im.app) {
        const auto& a = *im.app;
        out.line("");
        out.line("  Application descriptor");
        fields d;
        d.add("Project name", a.project_name);
        d.add("App version", a.version);
        d.add("Compile time", a.date + " " + a.time);
        d.add("ESP-IDF", a.idf_version);
        d.add("ELF SHA-256", to_hex(a.elf_sha256));
        d.add("Secure version", std::to_string(a.secure_version));
        d.add("eFuse block rev", "min " + format_revision(a.min_efuse_blk_rev_full) + ", max " +
                                     format_revision(a.max_efuse_blk_rev_full));
        d.add("MMU page size",
              a.mmu_page_size_log2 ? std::to_string((1u << a.mmu_page_size_log2) / 1024) + " KiB" : "not set");
        d.print(out, "    ");
    }
    if (im.bootloader) {
        out.line("");
        out.line("  Bootloader descriptor");
        fields d;
        d.add("Version", std::to_string(im.bootloader->version));
        d.add("ESP-IDF", im.bootloader->idf_version);
        d.add("Compile time", im.bootloader->date_time);
        d.print(out, "    ");
    }
}

void print_partitions(reporter& out, const partition_table& t) {
    out.line("");
    out.line("Partition table at " + hex_offset(t.offset) +
             (t.md5 ? " (MD5 " + to_hex(t.md5->stored) + " " + validity(t.md5->ok()) + ")" : " (no MD5 entry)"));
    std::vector<std::vector<std::string>> rows{{"Label", "Type", "Subtype", "Offset", "Size", "Flags"}};
    for (const auto& p : t.entries)
        rows.push_back({p.label, partition_type_name(p.type), partition_subtype_name(p.type, p.subtype),
                        hex32(p.offset), hex32(p.size), partition_flags_text(p.flags)});
    print_table(out, rows, "  ");
}

int run_info(app_context& ctx, const std::string& path) {
    auto data = read_file_checked(path, [&](byte_view head, std::uint64_t size) {
        auto refused = refuse_from_head(head, size);
        if (refused) refused->message = path + ": " + refused->message;  // as for the whole file below
        return refused;
    });
    if (!data) return ctx.report().fail("info", data.error());
    auto file = analyze_firmware(*data);
    if (!file) {
        failure f = std::move(file).error();
        f.message = path + ": " + f.message;
        return ctx.report().fail("info", f);
    }
    const auto file_sha = to_hex(sha256(*data));
    const auto file_md5 = to_hex(md5(*data));

    if (ctx.report().json()) {
        auto result = file_json(*file);
        result["path"] = path;
        result["sha256"] = file_sha;
        result["md5"] = file_md5;
        return ctx.report().succeed("info", std::move(result));
    }

    reporter& out = ctx.report();
    fields top;
    top.add("File", path);
    top.add("Size", std::to_string(file->size) + " bytes");
    top.add("SHA-256", file_sha);
    top.add("MD5", file_md5);
    top.add("Contents", file_summary(*file));
    if (file->signature)
        top.add("Signature", std::to_string(file->signature->length) + " bytes at " + hex_offset(file->signature->offset) +
                                 " (not verified)");
    top.print(out);
    for (const auto& e : file->images) print_image(out, e);
    if (file->partitions) print_partitions(out, *file->partitions);

    out.line("");
    out.line("Checks");
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : file->checks) rows.push_back({c.ok ? "ok" : "FAIL", check_label(c), c.detail});
    print_table(out, rows, "  ");
    if (!file->notes.empty()) {
        out.line("");
        out.line("Notes");
        for (const auto& n : file->notes) out.line("  " + n);
    }
    return ctx.report().succeed("info");
}

}  // namespace

void register_info(CLI::App& app, app_context& ctx) {
    auto* sub = app.add_subcommand("info", "Show everything about a firmware file: chip, headers, segments, "
                                           "descriptors, partition table, check results");
    auto path = std::make_shared<std::string>();
    sub->add_option("FILE", *path, "Firmware file: an image, a merged flash image, a partition table, or gzip")
        ->required();
    sub->footer("Examples:\n  otaflash info build/app.bin\n  otaflash info --json merged.bin | jq .result.partition_table");
    ctx.on_run(sub, [path](app_context& c) { return run_info(c, *path); });
}

}  // namespace otaflash::cli
