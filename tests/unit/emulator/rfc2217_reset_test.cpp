// RFC 2217 server codec and the DTR/RTS auto-reset circuit (rom-bootloader.md §5).

#include "emulator/rom/reset_circuit.hpp"
#include "emulator/rom/rfc2217.hpp"

#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::emulator::rom;
using namespace std::chrono_literals;

namespace {

const time_point t0 = time_point{} + std::chrono::hours(1);

// esptool's Classic reset (§5): DTR=0,RTS=1 -> 0.1 s -> DTR=1,RTS=0 -> 0.05 s -> DTR=0, each
// line set on its own (so the circuit passes through DTR=1,RTS=1 for a moment).
TEST(ResetCircuit, ClassicSequenceEntersDownloadMode) {
    reset_circuit c;
    EXPECT_FALSE(c.set_dtr(false, t0));
    EXPECT_TRUE(c.set_rts(true, t0));  // EN low: the chip stops
    EXPECT_FALSE(c.boot_due());
    EXPECT_FALSE(c.set_dtr(true, t0 + 100ms));  // both asserted: EN released, GPIO0 still high
    EXPECT_FALSE(c.poll(t0 + 100ms));
    EXPECT_FALSE(c.set_rts(false, t0 + 100ms + std::chrono::microseconds(50)));  // GPIO0 low
    EXPECT_EQ(c.poll(t0 + 101ms), boot_mode::download);
    c.set_dtr(false, t0 + 150ms);
    EXPECT_FALSE(c.poll(t0 + 300ms));
}

// The same sequence through pyserial's rfc2217 client: every line change waits ~50 ms for its
// acknowledgement, so GPIO0 goes low 50 ms after EN rose. Still download mode.
TEST(ResetCircuit, ClassicSequenceWithNetworkRoundTripsEntersDownloadMode) {
    reset_circuit c;
    c.set_dtr(false, t0);
    c.set_rts(true, t0 + 50ms);
    c.set_dtr(true, t0 + 200ms);
    EXPECT_FALSE(c.poll(t0 + 249ms));
    c.set_rts(false, t0 + 250ms);
    EXPECT_EQ(c.poll(t0 + 250ms), boot_mode::download);
}

// UnixTight (§5): both lines in one step: (0,0) (1,1) (0,1) 0.1 s (1,0) 0.05 s (0,0).
TEST(ResetCircuit, UnixTightSequenceEntersDownloadMode) {
    reset_circuit c;
    const auto set = [&](bool dtr, bool rts, time_point t) { return c.set_dtr(dtr, t) | c.set_rts(rts, t); };
    set(false, false, t0);
    set(true, true, t0);
    EXPECT_TRUE(set(false, true, t0));
    set(true, false, t0 + 100ms);
    set(false, false, t0 + 150ms);
    EXPECT_EQ(c.poll(t0 + 150ms), boot_mode::download);
}

// Hard reset after flashing (§5): RTS pulse with DTR released boots the application once the
// strap window has passed.
TEST(ResetCircuit, RtsPulseAloneBootsTheApplication) {
    reset_circuit c;
    EXPECT_TRUE(c.set_rts(true, t0));
    c.set_rts(false, t0 + 100ms);
    EXPECT_FALSE(c.poll(t0 + 150ms));
    EXPECT_EQ(c.boot_due(), t0 + 100ms + reset_circuit::strap_window);
    EXPECT_EQ(c.poll(t0 + 200ms), boot_mode::app);
}

// Both lines asserted together (pyserial's open) neither resets nor straps the chip.
TEST(ResetCircuit, BothLinesTogetherDoNothing) {
    reset_circuit c;
    c.set_dtr(true, t0);
    EXPECT_FALSE(c.set_rts(true, t0));
    EXPECT_FALSE(c.boot_due());
    EXPECT_EQ(c.strap(), boot_mode::app);
}

bytes parse_hex(std::string_view text) { return *from_hex(text); }

TEST(Rfc2217Codec, AgreesToTheComPortOptionAndRefusesOthers) {
    rfc2217::server_codec codec;
    rfc2217::output out;
    // WILL COM-PORT, DO COM-PORT, DO ECHO, DO SGA
    codec.feed(parse_hex("fffb2cfffd2cfffd01fffd03"), out);
    EXPECT_EQ(to_hex(out.reply), "fffd2cfffb2cfffc01fffb03");
    EXPECT_TRUE(out.items.empty());
}

TEST(Rfc2217Codec, BaudAndControlAreOrderedAndAcknowledged) {
    rfc2217::server_codec codec;
    rfc2217::output out;
    // SET-BAUDRATE 921600 (0x000E1000), data 01 FF(escaped) 02, SET-CONTROL RTS ON, SET-CONTROL DTR OFF
    codec.feed(parse_hex("fffa2c01000e1000fff0" "01ffff02" "fffa2c050bfff0" "fffa2c0509fff0"), out);
    ASSERT_EQ(out.items.size(), 4u);
    EXPECT_EQ(out.items[0].what, rfc2217::item::kind::baud);
    EXPECT_EQ(out.items[0].value, 921600u);
    EXPECT_EQ(out.items[1].what, rfc2217::item::kind::data);
    EXPECT_EQ(to_hex(out.items[1].data), "01ff02");
    EXPECT_EQ(out.items[2].what, rfc2217::item::kind::rts);
    EXPECT_EQ(out.items[2].value, 1u);
    EXPECT_EQ(out.items[3].what, rfc2217::item::kind::dtr);
    EXPECT_EQ(out.items[3].value, 0u);
    EXPECT_EQ(to_hex(out.reply), "fffa2c65000e1000fff0" "fffa2c690bfff0" "fffa2c6909fff0");
}

TEST(Rfc2217Codec, SplitAnywhereGivesTheSameResult) {
    const bytes wire = parse_hex("41fffa2c01000e1000fff042ffff43");
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
        rfc2217::server_codec codec;
        rfc2217::output out;
        codec.feed(byte_view(wire).first(cut), out);
        codec.feed(byte_view(wire).subspan(cut), out);
        bytes data;
        for (const auto& i : out.items)
            if (i.what == rfc2217::item::kind::data) data.insert(data.end(), i.data.begin(), i.data.end());
        EXPECT_EQ(to_hex(data), "4142ff43") << cut;
        EXPECT_EQ(to_hex(out.reply), "fffa2c65000e1000fff0") << cut;
    }
}

TEST(Rfc2217Codec, EscapesIacInSerialData) {
    EXPECT_EQ(to_hex(rfc2217::server_codec::escape(parse_hex("00ff01ffff"))), "00ffff01ffffffff");
}

}  // namespace
