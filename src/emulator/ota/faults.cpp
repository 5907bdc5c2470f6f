#include "emulator/ota/faults.hpp"

#include <charconv>

namespace otaflash::emulator::ota {
namespace {

result<std::uint64_t> byte_count(std::string_view name, std::string_view value) {
    std::uint64_t n = 0;
    const auto* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, n);
    if (value.empty() || ec != std::errc{} || ptr != end)
        return make_failure(errc::usage_error,
                            "--fault " + std::string(name) + " needs a byte count, got '" + std::string(value) + "'",
                            "write it as " + std::string(name) + "=N, e.g. " + std::string(name) + "=4096");
    return n;
}

}  // namespace

bool fault_set::any() const noexcept {
    return silent || reject_auth || no_space || no_connect || connect_idle || bad_md5 || drop_after ||
           stall_after || end_error;
}

std::string_view fault_names() noexcept {
    return "silent, reject-auth, no-space, no-connect, connect-idle, drop-after=N, stall-after=N, bad-md5, "
           "end-error=TEXT";
}

result<void> add_fault(fault_set& faults, std::string_view spec) {
    const auto eq = spec.find('=');
    const std::string_view name = spec.substr(0, eq);
    const bool has_value = eq != std::string_view::npos;
    const std::string_view value = has_value ? spec.substr(eq + 1) : std::string_view{};

    auto flag = [&](bool& field) -> result<void> {
        if (has_value)
            return make_failure(errc::usage_error, "--fault " + std::string(name) + " takes no value",
                                "write just --fault " + std::string(name));
        field = true;
        return {};
    };
    auto count = [&](std::optional<std::uint64_t>& field) -> result<void> {
        auto n = byte_count(name, value);
        if (!n) return std::move(n).error();
        field = *n;
        return {};
    };

    if (name == "silent") return flag(faults.silent);
    if (name == "reject-auth") return flag(faults.reject_auth);
    if (name == "no-space") return flag(faults.no_space);
    if (name == "no-connect") return flag(faults.no_connect);
    if (name == "connect-idle") return flag(faults.connect_idle);
    if (name == "bad-md5") return flag(faults.bad_md5);
    if (name == "drop-after") return count(faults.drop_after);
    if (name == "stall-after") return count(faults.stall_after);
    if (name == "end-error") {
        if (!has_value || value.empty())
            return make_failure(errc::usage_error, "--fault end-error needs the text to send",
                                "write it as end-error=TEXT, e.g. 'end-error=Flash Write Failed'");
        faults.end_error = std::string(value);
        return {};
    }
    return make_failure(errc::usage_error, "unknown --fault '" + std::string(spec) + "'",
                        "use one of: " + std::string(fault_names()));
}

}  // namespace otaflash::emulator::ota
