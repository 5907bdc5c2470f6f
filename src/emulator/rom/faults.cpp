#include "faults.hpp"

#include <charconv>

namespace otaflash::emulator::rom {
namespace {

std::optional<std::uint32_t> parse_number(std::string_view text) {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

std::string_view fault_names() noexcept {
    return "no-sync, boot-noise, garbage, status-error-on-block=N, status-error-once-on-block=N, "
           "silent-after-block=N, slow-flash, flip-byte=OFFSET";
}

result<void> add_fault(std::string_view spec, fault_set& faults) {
    const auto eq = spec.find('=');
    const std::string_view name = spec.substr(0, eq);
    const std::optional<std::string_view> arg =
        eq == std::string_view::npos ? std::nullopt : std::optional{spec.substr(eq + 1)};
    const auto bad = [&](std::string why) {
        return make_failure(errc::usage_error, "bad --fault '" + std::string(spec) + "': " + why,
                            "use one of: " + std::string(fault_names()));
    };
    const bool wants_number = name == "status-error-on-block" || name == "status-error-once-on-block" ||
                              name == "silent-after-block" || name == "flip-byte";
    if (wants_number) {
        if (!arg) return bad("it needs a number (" + std::string(name) + "=N)");
        auto n = parse_number(*arg);
        if (!n) return bad("'" + std::string(*arg) + "' is not a number (decimal or 0x hex)");
        if (name == "status-error-on-block") faults.status_error_blocks.push_back(*n);
        else if (name == "status-error-once-on-block") faults.status_error_once_blocks.push_back(*n);
        else if (name == "silent-after-block") faults.silent_after_block = *n;
        else faults.flip_bytes.push_back(*n);
        return {};
    }
    if (arg) return bad("'" + std::string(name) + "' takes no value");
    if (name == "no-sync") faults.no_sync = true;
    else if (name == "boot-noise") faults.boot_noise = true;
    else if (name == "garbage") faults.garbage = true;
    else if (name == "slow-flash") faults.slow_flash = true;
    else return bad("unknown fault");
    return {};
}

}  // namespace otaflash::emulator::rom
