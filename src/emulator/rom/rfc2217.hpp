#pragma once
// The access-server side of RFC 2217 (telnet COM-PORT-OPTION) as a pure codec: what a client
// such as pyserial's rfc2217:// (esptool) sends becomes serial data, baud-rate and DTR/RTS
// changes, in order, plus the telnet answers the client waits for.

#include <otaflash/proto/telnet/com_port.hpp>
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
    static bytes escape(byte_view data) { return otaflash::telnet::escape(data); }

private:
    void subnegotiation(byte_view message, output& out);

    otaflash::telnet::decoder decoder_;
    std::vector<otaflash::telnet::event> events_;
    std::uint32_t baud_;
};

}  // namespace otaflash::emulator::rom::rfc2217
