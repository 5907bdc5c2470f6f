#include "emulator/mqtt/settings.hpp"

#include <charconv>

namespace otaflash::emulator::mqtt {
namespace {

std::optional<std::uint64_t> count(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

result<void> add_fault(device_faults& faults, const std::string& spec) {
    const auto eq = spec.find('=');
    const std::string name = spec.substr(0, eq);
    const std::string value = eq == std::string::npos ? std::string() : spec.substr(eq + 1);
    auto numbered = [&](std::optional<std::uint64_t>& field) -> result<void> {
        auto n = count(value);
        if (!n)
            return make_failure(errc::usage_error, "fault " + name + " needs a chunk count: " + name + "=N",
                                "e.g. --fault " + name + "=10");
        field = *n;
        return {};
    };
    if (name == "title-mismatch" && value.empty()) return faults.title_mismatch = true, result<void>{};
    if (name == "same-version" && value.empty()) return faults.same_version = true, result<void>{};
    if (name == "corrupt-once" && value.empty()) return faults.corrupt_once = true, result<void>{};
    if (name == "corrupt") return numbered(faults.corrupt);
    if (name == "die-after") return numbered(faults.die_after);
    if (name == "silent-after") return numbered(faults.silent_after);
    if (name == "reconnect-after") return numbered(faults.reconnect_after);
    return make_failure(errc::usage_error, "unknown fault '" + spec + "'",
                        "faults: title-mismatch, same-version, corrupt=N, corrupt-once, die-after=N, silent-after=N, "
                        "reconnect-after=N");
}

}  // namespace otaflash::emulator::mqtt
