#include <otaflash/proto/rom/slip.hpp>

namespace otaflash::rom::slip {

void encode(byte_view payload, bytes& out) {
    out.reserve(out.size() + payload.size() + payload.size() / 64 + 2);
    out.push_back(frame_end);
    for (auto b : payload) {
        if (b == frame_end) {
            out.push_back(frame_esc);
            out.push_back(esc_end);
        } else if (b == frame_esc) {
            out.push_back(frame_esc);
            out.push_back(esc_esc);
        } else {
            out.push_back(b);
        }
    }
    out.push_back(frame_end);
}

bytes encode(byte_view payload) {
    bytes out;
    encode(payload, out);
    return out;
}

void decoder::feed(byte_view data, output& out) {
    for (auto b : data) {
        switch (state_) {
        case state::idle:
            if (b == frame_end) {
                state_ = state::in_frame;
                frame_.clear();
            } else {
                out.noise.push_back(b);
            }
            break;
        case state::skip_to_end:
            // After a broken frame: its remaining bytes are not noise, and the C0 that ends it
            // may equally open the next frame.
            if (b == frame_end) {
                state_ = state::in_frame;
                frame_.clear();
            }
            break;
        case state::in_frame:
            if (b == frame_end) {
                if (!frame_.empty()) {
                    out.frames.push_back(std::move(frame_));
                    frame_.clear();
                    state_ = state::idle;
                }
                // an empty frame (C0 C0) is the end of nothing and the start of the next frame
            } else if (b == frame_esc) {
                state_ = state::escape;
            } else if (frame_.size() >= max_frame_) {
                ++out.framing_errors;
                frame_.clear();
                state_ = state::skip_to_end;
            } else {
                frame_.push_back(b);
            }
            break;
        case state::escape:
            if ((b == esc_end || b == esc_esc) && frame_.size() < max_frame_) {
                frame_.push_back(b == esc_end ? frame_end : frame_esc);
                state_ = state::in_frame;
            } else {
                ++out.framing_errors;
                frame_.clear();
                state_ = b == frame_end ? state::in_frame : state::skip_to_end;
            }
            break;
        }
    }
}

}  // namespace otaflash::rom::slip
