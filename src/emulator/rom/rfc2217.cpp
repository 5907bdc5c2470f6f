#include "rfc2217.hpp"

namespace otaflash::emulator::rom::rfc2217 {

void server_codec::subnegotiation(byte_view message, output& out) {
    if (message.size() < 2 || message[0] != telnet::opt_com_port) return;
    const std::uint8_t command = message[1];
    bytes value(message.begin() + 2, message.end());
    if (command == telnet::set_baudrate) {
        if (auto rate = telnet::read_baud_value(value)) {
            if (*rate != 0) {  // 0 asks for the current rate
                baud_ = *rate;
                out.items.push_back({item::kind::baud, {}, *rate});
            }
            value = telnet::baud_value(baud_);
        }
    } else if (command == telnet::set_control && value.size() == 1) {
        switch (value[0]) {
        case telnet::control_dtr_on: out.items.push_back({item::kind::dtr, {}, 1}); break;
        case telnet::control_dtr_off: out.items.push_back({item::kind::dtr, {}, 0}); break;
        case telnet::control_rts_on: out.items.push_back({item::kind::rts, {}, 1}); break;
        case telnet::control_rts_off: out.items.push_back({item::kind::rts, {}, 0}); break;
        default: break;
        }
    }
    // Every COM-PORT command is confirmed with its server code and the value now in force, which
    // is what clients wait for (data size, parity, stop bits, purge and flow control are only acknowledged).
    const bytes confirmation = telnet::com_port_message(static_cast<std::uint8_t>(command + telnet::server_offset), value);
    out.reply.insert(out.reply.end(), confirmation.begin(), confirmation.end());
}

void server_codec::feed(byte_view input, output& out) {
    events_.clear();
    decoder_.feed(input, events_);
    for (const auto& e : events_) {
        switch (e.what) {
        case telnet::event::kind::data:
            if (out.items.empty() || out.items.back().what != item::kind::data) out.items.push_back({});
            out.items.back().data.insert(out.items.back().data.end(), e.data.begin(), e.data.end());
            break;
        case telnet::event::kind::negotiation:
            // Agree to binary mode, suppress-go-ahead and the COM port option both ways; refuse the rest.
            if (auto reply = telnet::answer(e.verb, e.option)) out.reply.insert(out.reply.end(), {telnet::iac, *reply, e.option});
            break;
        case telnet::event::kind::subnegotiation: subnegotiation(e.data, out); break;
        }
    }
}

}  // namespace otaflash::emulator::rom::rfc2217
