#include <otaflash/proto/telnet/com_port.hpp>

#include <utility>

namespace otaflash::telnet {

bytes escape(byte_view data) {
    bytes out;
    out.reserve(data.size() + 8);
    for (auto b : data) {
        out.push_back(b);
        if (b == iac) out.push_back(iac);
    }
    return out;
}

bytes com_port_message(std::uint8_t command, byte_view value) {
    bytes out = {iac, sb, opt_com_port, command};
    const bytes escaped = escape(value);
    out.insert(out.end(), escaped.begin(), escaped.end());
    out.insert(out.end(), {iac, se});
    return out;
}

bytes baud_value(std::uint32_t baud) {
    return {static_cast<std::uint8_t>(baud >> 24), static_cast<std::uint8_t>(baud >> 16),
            static_cast<std::uint8_t>(baud >> 8), static_cast<std::uint8_t>(baud)};
}

std::optional<std::uint32_t> read_baud_value(byte_view value) noexcept {
    if (value.size() != 4) return std::nullopt;
    return (std::uint32_t{value[0]} << 24) | (std::uint32_t{value[1]} << 16) | (std::uint32_t{value[2]} << 8) | value[3];
}

std::optional<std::uint8_t> answer(std::uint8_t verb, std::uint8_t option) noexcept {
    const bool wanted = option == opt_binary || option == opt_sga || option == opt_com_port;
    if (verb == do_) return wanted ? will : wont;
    if (verb == will) return wanted ? do_ : dont;
    return std::nullopt;
}

void decoder::feed(byte_view input, std::vector<event>& out) {
    auto data = [&out](std::uint8_t b) {
        if (out.empty() || out.back().what != event::kind::data) out.push_back({});
        out.back().data.push_back(b);
    };
    for (auto b : input) {
        switch (state_) {
        case state::data:
            if (b == iac) state_ = state::iac;
            else data(b);
            break;
        case state::iac:
            if (b == iac) {
                data(iac);
                state_ = state::data;
            } else if (b == do_ || b == dont || b == will || b == wont) {
                verb_ = b;
                state_ = state::verb;
            } else if (b == sb) {
                sb_.clear();
                state_ = state::sb;
            } else {
                state_ = state::data;  // NOP, break, go-ahead…: nothing to do
            }
            break;
        case state::verb:
            out.push_back({event::kind::negotiation, verb_, b, {}});
            state_ = state::data;
            break;
        case state::sb:
            if (b == iac) state_ = state::sb_iac;
            else if (sb_.size() < max_subnegotiation) sb_.push_back(b);
            break;
        case state::sb_iac:
            if (b == se) {
                out.push_back({event::kind::subnegotiation, 0, 0, std::exchange(sb_, {})});
                state_ = state::data;
            } else {
                if (b == iac && sb_.size() < max_subnegotiation) sb_.push_back(iac);
                state_ = state::sb;
            }
            break;
        }
    }
}

}  // namespace otaflash::telnet
