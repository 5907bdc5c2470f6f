#include <otaflash/proto/espota/ack_stream.hpp>

namespace otaflash::espota {
namespace {
bool is_filler(char c) { return (c >= '0' && c <= '9') || c == ' ' || c == '\r' || c == '\n' || c == '\t'; }
}  // namespace

std::size_t ack_stream::feed(byte_view data) {
    std::size_t digits = 0;
    for (std::uint8_t byte : data) {
        const char c = static_cast<char>(byte);
        if (text_.empty()) {
            if (is_filler(c)) {
                ++digits;
                continue;
            }
        }
        if (text_.size() < max_text) text_ += c;
    }
    ack_bytes_ += digits;
    if (!text_.empty()) {
        // "O" alone may be the first half of "OK" split across reads: undecided until more arrives.
        if (text_.starts_with("OK")) verdict_ = verdict::ok;
        else if (text_ != "O") verdict_ = verdict::error;
    }
    return digits;
}

bool ack_stream::text_complete() const noexcept {
    if (verdict_ == verdict::ok) return true;
    if (verdict_ == verdict::error) return text_.find('\n') != std::string::npos || text_.size() >= max_text;
    return false;
}

}  // namespace otaflash::espota
