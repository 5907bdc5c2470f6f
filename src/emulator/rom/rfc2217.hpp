#pragma once
// The access-server side of RFC 2217 (telnet COM-PORT-OPTION) as a pure codec: what a client
// such as pyserial's rfc2217:// (esptool) sends becomes serial data, baud-rate and DTR/RTS
// changes, in order, plus the telnet answers the client waits for.

#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <vector>

namespace otaflash::emulator::rom::rfc2217 {

struct item {
    enum class kind : std::uint8_t { data, baud, dtr, rts };
    kind what = kind::data;
    bytes data;              // kind::data
    std::uint32_t value = 0; // kind::baud: bits per second; dtr/rts: 1 asserted, 0 released
};

struct output {
    std::vector<item> items;
    bytes reply;  // telnet bytes for the client
};

class server_codec {
public:
    explicit server_codec(std::uint32_t initial_baud = 115200) : baud_(initial_baud) {}

    void feed(byte_view input, output& out);
    // Serial data for the client: 0xFF doubled.
    static bytes escape(byte_view data);

private:
    void negotiate(std::uint8_t verb, std::uint8_t option, output& out);
    void subnegotiation(output& out);
    void push_data(std::uint8_t b, output& out);

    enum class state { data, iac, verb, sb, sb_iac } state_ = state::data;
    std::uint8_t verb_ = 0;
    bytes sb_;
    std::uint32_t baud_;
};

}  // namespace otaflash::emulator::rom::rfc2217
