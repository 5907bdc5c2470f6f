#include "cli/commands/image_report.hpp"

#include <otaflash/util/hex.hpp>

namespace otaflash::cli {
namespace {
using nlohmann::json;
using namespace otaflash::image;

json segment_json(const segment& s, std::size_t index, std::size_t base) {
    return {{"index", index},
            {"load_address", hex_offset(s.load_address)},
            {"length", s.length},
            {"file_offset", hex_offset(base + s.header_offset)},  // as esptool image_info reports it
            {"data_offset", hex_offset(base + s.data_offset)},
            {"region", s.region}};
}

json ext_json(const extended_header& e) {
    return {{"wp_pin", hex_digits(e.wp_pin, 2)},
            {"clk_drv", e.clk_drv},
            {"q_drv", e.q_drv},
            {"d_drv", e.d_drv},
            {"cs_drv", e.cs_drv},
            {"hd_drv", e.hd_drv},
            {"wp_drv", e.wp_drv},
            {"chip_id", e.chip_id},
            {"min_rev", e.min_rev},
            {"min_rev_full", e.min_rev_full},
            {"max_rev_full", e.max_rev_full},
            {"min_chip_rev", format_revision(e.min_rev_full)},
            {"max_chip_rev", format_revision(e.max_rev_full)},
            {"hash_appended", e.hash_appended}};
}

json app_json(const app_descriptor& a) {
    return {{"version", a.version},
            {"project_name", a.project_name},
            {"time", a.time},
            {"date", a.date},
            {"idf_version", a.idf_version},
            {"elf_sha256", to_hex(a.elf_sha256)},
            {"secure_version", a.secure_version},
            {"min_efuse_blk_rev_full", a.min_efuse_blk_rev_full},
            {"max_efuse_blk_rev_full", a.max_efuse_blk_rev_full},
            {"mmu_page_size", a.mmu_page_size_log2 ? json(1u << a.mmu_page_size_log2) : json(nullptr)}};
}

json image_json(const image_info& im, std::size_t base) {
    json segments = json::array();
    for (std::size_t i = 0; i < im.segments.size(); ++i) segments.push_back(segment_json(im.segments[i], i, base));
    json j = {{"format", format_name(im.format)},
              {"chip", name(im.target)},
              {"detection", im.detection},
              {"role", role_name(im.role)},
              {"role_reason", im.role_reason.empty() ? json(nullptr) : json(im.role_reason)},
              {"entry", hex_offset(im.entry)},
              {"segment_count", im.segment_count},
              {"flash_mode", flash_mode_name(im.flash_mode)},
              {"flash_size", flash_size_name(im)},
              {"flash_freq", flash_freq_name(im)},
              {"extended_header", im.ext ? ext_json(*im.ext) : json(nullptr)},
              {"segments", std::move(segments)},
              {"irom_segment", im.irom ? segment_json(*im.irom, 0, base) : json(nullptr)},
              {"checksum",
               {{"offset", hex_offset(base + im.checksum_offset)},
                {"stored", hex_digits(im.checksum_stored, 2)},
                {"computed", hex_digits(im.checksum_computed, 2)},
                {"valid", im.checksum_ok()}}},
              {"sha256", nullptr},
              {"crc32", nullptr},
              {"size", im.size},
              {"app_descriptor", im.app ? app_json(*im.app) : json(nullptr)},
              {"bootloader_descriptor", nullptr}};
    if (im.digest)
        j["sha256"] = {{"offset", hex_offset(base + im.digest->offset)},
                       {"stored", to_hex(im.digest->stored)},
                       {"computed", to_hex(im.digest->computed)},
                       {"valid", im.digest->ok()}};
    if (im.crc32)
        j["crc32"] = {{"offset", hex_offset(base + im.crc32->offset)},
                      {"stored", hex32(im.crc32->stored)},
                      {"computed", hex32(im.crc32->computed)},
                      {"valid", im.crc32->ok()}};
    if (im.bootloader)
        j["bootloader_descriptor"] = {{"version", im.bootloader->version},
                                      {"idf_version", im.bootloader->idf_version},
                                      {"date_time", im.bootloader->date_time}};
    return j;
}

json table_json(const partition_table& t) {
    json entries = json::array();
    for (const auto& p : t.entries)
        entries.push_back({{"label", p.label},
                           {"type", partition_type_name(p.type)},
                           {"subtype", partition_subtype_name(p.type, p.subtype)},
                           {"offset", hex32(p.offset)},
                           {"size", p.size},
                           {"flags", p.flags},
                           {"encrypted", (p.flags & 1u) != 0},
                           {"readonly", (p.flags & 2u) != 0}});
    json j = {{"offset", hex_offset(t.offset)}, {"entries", std::move(entries)}, {"md5", nullptr}};
    if (t.md5)
        j["md5"] = {{"offset", hex_offset(t.md5->offset)},
                    {"stored", to_hex(t.md5->stored)},
                    {"computed", to_hex(t.md5->computed)},
                    {"valid", t.md5->ok()}};
    return j;
}

}  // namespace

std::string check_label(const check& c) { return c.scope.empty() ? c.name : c.scope + " " + c.name; }
std::string check_line(const check& c) { return c.scope.empty() ? c.detail : c.scope + ": " + c.detail; }

std::string file_summary(const firmware_file& file) {
    std::string what;
    switch (file.kind) {
    case file_kind::image: what = "image"; break;
    case file_kind::merged: what = "merged flash image"; break;
    case file_kind::partition_table: what = "partition table"; break;
    }
    if (file.target) what = std::string{name(*file.target)} + " " + what;
    if (file.signature) what = "signed " + what;
    if (file.secure_boot) what = "secure-boot-signed " + what;
    if (file.gzip) what = "gzip-compressed " + what;
    return what;
}

json checks_json(const std::vector<check>& checks) {
    json out = json::array();
    for (const auto& c : checks) {
        json j = {{"name", c.name}, {"scope", c.scope}, {"ok", c.ok}, {"detail", c.detail}};
        if (!c.ok) {
            j["code"] = code_name(c.code);
            j["hint"] = c.hint;
        }
        out.push_back(std::move(j));
    }
    return out;
}

json file_json(const firmware_file& file) {
    json images = json::array();
    for (const auto& e : file.images) {
        json j = e.image ? image_json(*e.image, e.offset) : json::object();
        j["label"] = e.label;
        j["offset"] = hex_offset(e.offset);
        j["problem"] = e.problem.empty() ? json(nullptr) : json(e.problem);
        images.push_back(std::move(j));
    }
    return {{"kind", kind_name(file.kind)},
            {"chip", file.target ? json(name(*file.target)) : json(nullptr)},
            {"size", file.size},
            {"gzip", file.gzip ? json{{"compressed_size", file.gzip->compressed_size},
                                      {"inflated_size", file.gzip->inflated_size}}
                               : json(nullptr)},
            {"signature", file.signature ? json{{"offset", hex_offset(file.signature->offset)},
                                                {"length", file.signature->length},
                                                {"verified", false}}
                                         : json(nullptr)},
            {"secure_boot", file.secure_boot ? json{{"version", file.secure_boot->version},
                                                    {"offset", hex_offset(file.secure_boot->offset)},
                                                    {"blocks", file.secure_boot->blocks},
                                                    {"verified", false}}
                                             : json(nullptr)},
            {"images", std::move(images)},
            {"partition_table", file.partitions ? table_json(*file.partitions) : json(nullptr)},
            {"checks", checks_json(file.checks)},
            {"notes", file.notes},
            {"ok", file.ok()}};
}

}  // namespace otaflash::cli
