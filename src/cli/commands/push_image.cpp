#include "cli/commands/push_image.hpp"

#include <otaflash/io/file.hpp>

#include <sys/stat.h>

namespace otaflash::cli {
namespace {
bool regular_file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
}  // namespace

result<push_image> load_push_image(const std::string& path, bool use_signed, preflight_request checks) {
    push_image out;
    out.path = path;
    if (use_signed && regular_file_exists(path + ".signed")) {
        out.path = path + ".signed";
        out.notes.push_back("sending the signed image " + out.path);
    }
    auto data = read_file_checked(out.path, [&](byte_view head, std::uint64_t size) { return preflight_head(checks, head, size); });
    if (!data) return std::move(data).error();
    out.data = std::move(*data);
    checks.image = out.data;
    auto verdict = preflight_image(checks);
    if (!verdict) return std::move(verdict).error();
    out.warnings = std::move(verdict->warnings);
    for (auto& n : verdict->notes) out.notes.push_back(std::move(n));
    out.facts = {{"kind", verdict->summary},
                 {"chip", verdict->chip ? nlohmann::json(*verdict->chip) : nlohmann::json(nullptr)},
                 {"signed", verdict->signed_image}};
    return out;
}

}  // namespace otaflash::cli
