#pragma once
// What a device sends on the TCP connection: ASCII byte counts with no separators, then "OK" or
// error text (../shared/protocols/espota.md §6.2, §6.4). Reads glue counts together ("14601460")
// and glue the last count to the verdict ("392OK"), and may split any of them, so the stream is
// accumulated and never parsed into exact counts: counts only prove the device is alive.

#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace otaflash::espota {

enum class verdict {
    none,   // only counts so far
    ok,     // "OK" followed the counts
    error,  // other text followed the counts (it may still be arriving; see text_complete)
};

class ack_stream {
public:
    // Bytes as read; returns how many of them were acknowledgement digits.
    std::size_t feed(byte_view data);

    std::uint64_t ack_bytes() const noexcept { return ack_bytes_; }
    verdict result() const noexcept { return verdict_; }
    // The verdict text (after the counts), as received so far; at most max_text bytes kept.
    const std::string& text() const noexcept { return text_; }
    // An error text is complete once its line ended (esp8266 "…\n", esp32 "…\r\n"); a text cut
    // short by the connection closing is complete as well, but only the caller knows that.
    bool text_complete() const noexcept;

    static constexpr std::size_t max_text = 1024;

private:
    std::uint64_t ack_bytes_ = 0;
    std::string text_;
    verdict verdict_ = verdict::none;
};

}  // namespace otaflash::espota
