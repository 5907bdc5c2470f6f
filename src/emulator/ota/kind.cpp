#include "emulator/ota/kind.hpp"

#include <array>

namespace otaflash::emulator::ota {
namespace {

using espota::auth_scheme;
using namespace std::chrono_literals;

constexpr kind_traits esp8266_traits{
    .kind = device_kind::esp8266, .name = "esp8266", .default_port = 8266,
    .updater = updater_family::esp8266, .scheme = auth_scheme::md5_legacy,
    .default_stored_hash = stored_hash::md5, .async_udp = true, .reply_to_invitation_port = true,
    .ok_before_begin = false, .drain_reads = true, .max_read = 4096, .int_digits_limit = 16,
    .datagram_limit = std::nullopt, .receive_wait = 1000ms, .receive_timeout_effective = false,
    .receive_retries = 0, .connect_delay = 100ms, .connect_timeout = 5000ms,
    .delay_before_ok = 1000ms, .delay_after_ok = 1000ms,
    .hostname_prefix = "esp8266-", .chip_id_digits = 6, .default_board = "d1_mini"};

constexpr kind_traits esp32_legacy_traits{
    .kind = device_kind::esp32_legacy, .name = "esp32-legacy", .default_port = 3232,
    .updater = updater_family::esp32, .scheme = auth_scheme::md5_legacy,
    .default_stored_hash = stored_hash::md5, .async_udp = false, .reply_to_invitation_port = false,
    .ok_before_begin = true, .drain_reads = false, .max_read = 1460, .int_digits_limit = 15,
    .datagram_limit = 1460, .receive_wait = 1000ms, .receive_timeout_effective = true,
    .receive_retries = 3, .connect_delay = 0ms, .connect_timeout = 3000ms,
    .delay_before_ok = 0ms, .delay_after_ok = 0ms,
    .hostname_prefix = "esp32-", .chip_id_digits = 12, .default_board = "esp32"};

constexpr kind_traits esp32_traits = [] {
    kind_traits t = esp32_legacy_traits;
    t.kind = device_kind::esp32;
    t.name = "esp32";
    t.scheme = auth_scheme::pbkdf2_sha256;
    t.default_stored_hash = stored_hash::sha256;
    return t;
}();

constexpr kind_traits rp2040_traits = [] {
    kind_traits t = esp8266_traits;
    t.kind = device_kind::rp2040;
    t.name = "rp2040";
    t.default_port = 2040;
    t.updater = updater_family::rp2040;
    t.hostname_prefix = "pico-";
    t.chip_id_digits = 16;
    t.default_board = "rpipicow";
    return t;
}();

constexpr std::array<kind_traits, 4> table{esp8266_traits, esp32_legacy_traits, esp32_traits, rp2040_traits};

}  // namespace

const kind_traits& traits(device_kind kind) noexcept { return table[static_cast<std::size_t>(kind)]; }

std::span<const kind_traits> all_kinds() noexcept { return table; }

std::optional<device_kind> kind_from_name(std::string_view name) noexcept {
    for (const auto& t : table)
        if (t.name == name) return t.kind;
    return std::nullopt;
}

std::string default_hostname(const kind_traits& kind, std::uint32_t address, std::uint16_t port) {
    const std::uint64_t id = (static_cast<std::uint64_t>(address) << 16) | port;
    static constexpr char digits[] = "0123456789abcdef";
    std::string name(kind.hostname_prefix);
    for (unsigned i = kind.chip_id_digits; i-- > 0;) name.push_back(i < 16 ? digits[(id >> (4 * i)) & 0xF] : '0');
    return name;
}

}  // namespace otaflash::emulator::ota
