#pragma once
// SLIP framing of the ROM bootloader protocol (../shared/protocols/rom-bootloader.md §1.1).

#include <otaflash/util/bytes.hpp>

#include <cstddef>
#include <vector>

namespace otaflash::rom::slip {

inline constexpr std::uint8_t frame_end = 0xC0;
inline constexpr std::uint8_t frame_esc = 0xDB;
inline constexpr std::uint8_t esc_end = 0xDC;
inline constexpr std::uint8_t esc_esc = 0xDD;

// Appends `C0 <escaped payload> C0` to `out`.
void encode(byte_view payload, bytes& out);
bytes encode(byte_view payload);

// Incremental, bounded decoder. Bytes outside frames are kept as `noise` (the ROM's boot log, a
// panic dump, or a wrong baud rate: the caller looks at them to say what is wrong). An empty frame
// between two C0 is nothing. A bad escape or an oversized frame drops that frame, counts a framing
// error, and the decoder resynchronises at the next C0.
class decoder {
public:
    struct output {
        std::vector<bytes> frames;
        bytes noise;
        unsigned framing_errors = 0;
    };

    explicit decoder(std::size_t max_frame = 0x4000 + 64) : max_frame_(max_frame) {}

    void feed(byte_view data, output& out);
    void reset() noexcept { state_ = state::idle; frame_.clear(); }

private:
    enum class state { idle, in_frame, escape, skip_to_end };
    std::size_t max_frame_;
    state state_ = state::idle;
    bytes frame_;
};

}  // namespace otaflash::rom::slip
