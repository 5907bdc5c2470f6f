#pragma once
// A serial line carried over telnet (RFC 854) with the COM-PORT option (RFC 2217), as both ends
// of it use it here: the host's rfc2217:// port and the emulated ROM's access server. The codes,
// the escaping of data, COM-PORT messages and an incremental decoder of the telnet stream.

#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace otaflash::telnet {

// Telnet commands.
inline constexpr std::uint8_t iac = 255, dont = 254, do_ = 253, wont = 252, will = 251, sb = 250, se = 240;
// Options: binary transmission, suppress go-ahead, COM-PORT.
inline constexpr std::uint8_t opt_binary = 0, opt_sga = 3, opt_com_port = 44;
// COM-PORT commands of the client; the server confirms each with the code + server_offset.
inline constexpr std::uint8_t set_baudrate = 1, set_datasize = 2, set_parity = 3, set_stopsize = 4, set_control = 5;
inline constexpr std::uint8_t server_offset = 100;
// SET-CONTROL values, and the SET-PARITY / SET-STOPSIZE values of an 8N1 line.
inline constexpr std::uint8_t control_dtr_on = 8, control_dtr_off = 9, control_rts_on = 11, control_rts_off = 12;
inline constexpr std::uint8_t parity_none = 1, stopsize_one = 1;

// Serial data as it travels in the telnet stream: every 0xFF doubled.
bytes escape(byte_view data);

// IAC SB COM-PORT `command` `value` (escaped) IAC SE.
bytes com_port_message(std::uint8_t command, byte_view value);

// SET-BAUDRATE's value: the rate as four bytes, most significant first.
bytes baud_value(std::uint32_t baud);
// nullopt unless `value` is four bytes.
std::optional<std::uint32_t> read_baud_value(byte_view value) noexcept;

// The answer to the other end's DO or WILL: both ends take binary mode, suppress-go-ahead and
// COM-PORT and refuse every other option. nullopt for DONT and WONT (nothing to answer).
std::optional<std::uint8_t> answer(std::uint8_t verb, std::uint8_t option) noexcept;

// What a telnet stream carries, in the order it arrived.
struct event {
    enum class kind : std::uint8_t { data, negotiation, subnegotiation };
    kind what = kind::data;
    std::uint8_t verb = 0;    // negotiation: DO, DONT, WILL or WONT
    std::uint8_t option = 0;  // negotiation
    bytes data;               // data: serial bytes; subnegotiation: what stood between IAC SB and IAC SE
};

class decoder {
public:
    // Longer subnegotiations are cut there (COM-PORT ones are a few bytes).
    static constexpr std::size_t max_subnegotiation = 64;

    // Appends the events `input` completes to `out`; consecutive data bytes make one event.
    void feed(byte_view input, std::vector<event>& out);

private:
    enum class state : std::uint8_t { data, iac, verb, sb, sb_iac };
    state state_ = state::data;
    std::uint8_t verb_ = 0;
    bytes sb_;
};

}  // namespace otaflash::telnet
