#include "rfc2217.hpp"

namespace otaflash::emulator::rom::rfc2217 {
namespace {

// RFC 854 / RFC 2217 constants.
constexpr std::uint8_t iac = 255, dont = 254, do_ = 253, wont = 252, will = 251, sb = 250, se = 240;
constexpr std::uint8_t opt_binary = 0, opt_sga = 3, opt_com_port = 44;
constexpr std::uint8_t set_baudrate = 1, set_control = 5, server_offset = 100;
constexpr std::uint8_t control_dtr_on = 8, control_dtr_off = 9, control_rts_on = 11, control_rts_off = 12;
constexpr std::size_t max_subnegotiation = 64;

bool supported(std::uint8_t option) { return option == opt_binary || option == opt_sga || option == opt_com_port; }

}  // namespace

bytes server_codec::escape(byte_view data) {
    bytes out;
    out.reserve(data.size() + 8);
    for (auto b : data) {
        out.push_back(b);
        if (b == iac) out.push_back(iac);
    }
    return out;
}

void server_codec::push_data(std::uint8_t b, output& out) {
    if (out.items.empty() || out.items.back().what != item::kind::data) out.items.push_back({});
    out.items.back().data.push_back(b);
}

void server_codec::negotiate(std::uint8_t verb, std::uint8_t option, output& out) {
    // Agree to binary mode, suppress-go-ahead and the COM port option both ways; refuse the rest.
    if (verb == do_) out.reply.insert(out.reply.end(), {iac, supported(option) ? will : wont, option});
    else if (verb == will) out.reply.insert(out.reply.end(), {iac, supported(option) ? do_ : dont, option});
}

void server_codec::subnegotiation(output& out) {
    if (sb_.size() < 2 || sb_[0] != opt_com_port) return;
    const std::uint8_t command = sb_[1];
    bytes value(sb_.begin() + 2, sb_.end());
    if (command == set_baudrate && value.size() == 4) {
        const std::uint32_t rate = (std::uint32_t{value[0]} << 24) | (std::uint32_t{value[1]} << 16) |
                                   (std::uint32_t{value[2]} << 8) | value[3];
        if (rate != 0) {  // 0 asks for the current rate
            baud_ = rate;
            out.items.push_back({item::kind::baud, {}, rate});
        }
        value = {static_cast<std::uint8_t>(baud_ >> 24), static_cast<std::uint8_t>(baud_ >> 16),
                 static_cast<std::uint8_t>(baud_ >> 8), static_cast<std::uint8_t>(baud_)};
    } else if (command == set_control && value.size() == 1) {
        switch (value[0]) {
        case control_dtr_on: out.items.push_back({item::kind::dtr, {}, 1}); break;
        case control_dtr_off: out.items.push_back({item::kind::dtr, {}, 0}); break;
        case control_rts_on: out.items.push_back({item::kind::rts, {}, 1}); break;
        case control_rts_off: out.items.push_back({item::kind::rts, {}, 0}); break;
        default: break;
        }
    }
    // Every COM-PORT command is confirmed with its server code and the value now in force, which
    // is what clients wait for (data size, parity, stop bits, purge and flow control are only acknowledged).
    out.reply.insert(out.reply.end(), {iac, sb, opt_com_port, static_cast<std::uint8_t>(command + server_offset)});
    const bytes escaped = escape(value);
    out.reply.insert(out.reply.end(), escaped.begin(), escaped.end());
    out.reply.insert(out.reply.end(), {iac, se});
}

void server_codec::feed(byte_view input, output& out) {
    for (auto b : input) {
        switch (state_) {
        case state::data:
            if (b == iac) state_ = state::iac;
            else push_data(b, out);
            break;
        case state::iac:
            if (b == iac) {
                push_data(iac, out);
                state_ = state::data;
            } else if (b == do_ || b == dont || b == will || b == wont) {
                verb_ = b;
                state_ = state::verb;
            } else if (b == sb) {
                sb_.clear();
                state_ = state::sb;
            } else {
                state_ = state::data;  // NOP, break, go-ahead...: nothing to do
            }
            break;
        case state::verb:
            negotiate(verb_, b, out);
            state_ = state::data;
            break;
        case state::sb:
            if (b == iac) state_ = state::sb_iac;
            else if (sb_.size() < max_subnegotiation) sb_.push_back(b);
            break;
        case state::sb_iac:
            if (b == se) {
                subnegotiation(out);
                state_ = state::data;
            } else {
                if (b == iac && sb_.size() < max_subnegotiation) sb_.push_back(iac);
                state_ = state::sb;
            }
            break;
        }
    }
}

}  // namespace otaflash::emulator::rom::rfc2217
