#pragma once
// The four ArduinoOTA device families the emulator models, and the facts that set them apart
// (../shared/protocols/espota.md §8). Everything kind-specific is read from this table.

#include <otaflash/proto/espota/auth.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace otaflash::emulator::ota {

using millis = std::chrono::milliseconds;

enum class device_kind : std::uint8_t {
    esp8266,       // esp8266/Arduino core
    esp32_legacy,  // arduino-esp32 <= 3.3.0 (MD5 challenge)
    esp32,         // arduino-esp32 >= 3.3.1 (PBKDF2-HMAC-SHA256 challenge)
    rp2040,        // earlephilhower/arduino-pico
};

// Which Updater library the device links: they differ in checks and in error texts.
enum class updater_family : std::uint8_t { esp8266, esp32, rp2040 };

enum class stored_hash : std::uint8_t { md5, sha256 };

struct kind_traits {
    device_kind kind;
    std::string_view name;
    std::uint16_t default_port;
    updater_family updater;
    espota::auth_scheme scheme;
    stored_hash default_stored_hash;  // what setPassword() stores
    // UDP arrives in an lwIP callback and is answered at once (esp8266, pico); otherwise it is
    // polled, one datagram per handle() call, and every reply waits for the sketch loop.
    bool async_udp;
    // Replies go to the invitation's source port (esp8266, pico) instead of each datagram's source.
    bool reply_to_invitation_port;
    // esp32: OK is sent while parsing, before Update.begin(); a failing begin() is then silent.
    bool ok_before_begin;
    // esp8266/pico drain everything available per loop into the 4096-byte sector buffer and ack
    // the total (`max_read` is that buffer); esp32 reads at most `max_read` bytes per loop and acks
    // each read.
    bool drain_reads;
    std::size_t max_read;
    // Digits parseInt() reads before it gives up and returns 0 (16-byte buffer, esp32 keeps one
    // byte for the terminator).
    std::size_t int_digits_limit;
    // esp32 pulls UDP with a 1460-byte buffer; longer datagrams are cut there.
    std::optional<std::size_t> datagram_limit;
    // Data wait per loop pass. esp8266/pico: the counter runs past zero, so waiting ends without
    // consequence (no receive timeout). esp32: `receive_retries` re-sent acks, then abort.
    millis receive_wait;
    bool receive_timeout_effective;
    unsigned receive_retries;
    millis connect_delay;    // after OK, before dialing (esp8266/pico: delay(100))
    millis connect_timeout;  // WiFiClient::connect()
    millis delay_before_ok;  // after Update.end() (esp8266/pico: flush, delay(1000))
    millis delay_after_ok;   // before closing (esp8266/pico: flush, delay(1000))
    // What ArduinoOTA.begin() advertises over mDNS when the sketch sets nothing
    // (../shared/protocols/espota.md §1, §10): "<prefix><chip id in hex>", and the TXT board=.
    std::string_view hostname_prefix;
    unsigned chip_id_digits;
    std::string_view default_board;
};

const kind_traits& traits(device_kind kind) noexcept;
std::span<const kind_traits> all_kinds() noexcept;
std::optional<device_kind> kind_from_name(std::string_view name) noexcept;

// The hostname a device of this kind gives itself when the sketch sets none: the prefix and the
// chip id in hex. The emulator makes that id from the device's IPv4 address (or the low 32 bits of
// an IPv6 one) and its port, so devices differ in one process and across processes.
std::string default_hostname(const kind_traits& kind, std::uint32_t address, std::uint16_t port);

}  // namespace otaflash::emulator::ota
