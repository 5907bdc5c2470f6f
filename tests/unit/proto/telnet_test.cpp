// The telnet / RFC 2217 COM-PORT codec both the host's rfc2217:// port and the emulated ROM's
// access server use: exact bytes of RFC 854 and RFC 2217.

#include <otaflash/proto/telnet/com_port.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;

namespace {

bytes hex(std::string_view text) { return *from_hex(text); }

std::vector<telnet::event> decode_bytewise(byte_view stream) {
    telnet::decoder d;
    std::vector<telnet::event> events;
    for (std::size_t i = 0; i < stream.size(); ++i) d.feed(stream.subspan(i, 1), events);
    return events;
}

}  // namespace

TEST(Telnet, DataIsEscapedByDoublingIac) {
    EXPECT_EQ(to_hex(telnet::escape(hex("00ff01ffff"))), "00ffff01ffffffff");
    EXPECT_TRUE(telnet::escape({}).empty());
}

// RFC 2217: IAC SB COM-PORT-OPTION SET-BAUDRATE <4 bytes, network order> IAC SE.
TEST(Telnet, ComPortMessagesCarryEscapedValues) {
    EXPECT_EQ(to_hex(telnet::com_port_message(telnet::set_baudrate, telnet::baud_value(921600))), "fffa2c01000e1000fff0");
    EXPECT_EQ(to_hex(telnet::com_port_message(telnet::set_control, bytes{telnet::control_dtr_on})), "fffa2c0508fff0");
    EXPECT_EQ(to_hex(telnet::com_port_message(telnet::set_baudrate + telnet::server_offset, telnet::baud_value(0xFF00FF00))),
              "fffa2c65ffff00ffff00fff0");
    EXPECT_EQ(telnet::read_baud_value(hex("000e1000")), 921600u);
    EXPECT_EQ(telnet::read_baud_value(hex("0e1000")), std::nullopt);
}

TEST(Telnet, AgreesToBinarySuppressGoAheadAndComPortOnly) {
    EXPECT_EQ(telnet::answer(telnet::do_, telnet::opt_binary), telnet::will);
    EXPECT_EQ(telnet::answer(telnet::do_, telnet::opt_com_port), telnet::will);
    EXPECT_EQ(telnet::answer(telnet::will, telnet::opt_sga), telnet::do_);
    EXPECT_EQ(telnet::answer(telnet::do_, 1), telnet::wont);   // echo
    EXPECT_EQ(telnet::answer(telnet::will, 24), telnet::dont);  // terminal type
    EXPECT_EQ(telnet::answer(telnet::dont, telnet::opt_binary), std::nullopt);
    EXPECT_EQ(telnet::answer(telnet::wont, telnet::opt_binary), std::nullopt);
}

// Data with an escaped 0xFF, a negotiation, a NOP, a subnegotiation holding an escaped 0xFF, more
// data: the same events whether the stream comes whole or a byte at a time.
TEST(Telnet, DecoderSplitsTheStreamInOrderAcrossAnyBoundary) {
    const bytes stream = hex("01ffff02" "fffd00" "fff1" "03" "fffa2c6500ffff1000fff0" "04");
    for (const auto& events : {decode_bytewise(stream), [&] {
                                   telnet::decoder d;
                                   std::vector<telnet::event> all;
                                   d.feed(stream, all);
                                   return all;
                               }()}) {
        ASSERT_EQ(events.size(), 5u);
        EXPECT_EQ(events[0].what, telnet::event::kind::data);
        EXPECT_EQ(to_hex(events[0].data), "01ff02");
        EXPECT_EQ(events[1].what, telnet::event::kind::negotiation);
        EXPECT_EQ(events[1].verb, telnet::do_);
        EXPECT_EQ(events[1].option, telnet::opt_binary);
        // The NOP between the negotiation and "03" starts no event; "03" is data after the negotiation.
        EXPECT_EQ(events[2].what, telnet::event::kind::data);
        EXPECT_EQ(to_hex(events[2].data), "03");
        EXPECT_EQ(events[3].what, telnet::event::kind::subnegotiation);
        EXPECT_EQ(to_hex(events[3].data), "2c6500ff1000");
        EXPECT_EQ(events[4].what, telnet::event::kind::data);
        EXPECT_EQ(to_hex(events[4].data), "04");
    }
}

TEST(Telnet, LongSubnegotiationIsCut) {
    bytes stream = hex("fffa2c");
    stream.insert(stream.end(), 200, 0x41);
    stream.insert(stream.end(), {telnet::iac, telnet::se, 0x42});
    telnet::decoder d;
    std::vector<telnet::event> events;
    d.feed(stream, events);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].data.size(), telnet::decoder::max_subnegotiation);
    EXPECT_EQ(to_hex(events[1].data), "42");
}
