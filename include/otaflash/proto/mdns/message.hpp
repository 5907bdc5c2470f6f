#pragma once
// DNS messages as mDNS / DNS-SD uses them (RFC 1035 wire format, RFC 6762 bits): enough to browse
// `_arduino._tcp`, resolve `name.local`, and answer such queries from an emulated device.

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace otaflash::mdns {

inline constexpr std::uint16_t port = 5353;
inline constexpr const char* ipv4_group = "224.0.0.251";
inline constexpr const char* ipv6_group = "ff02::fb";

enum class rr_type : std::uint16_t { a = 1, ptr = 12, txt = 16, aaaa = 28, srv = 33, any = 255 };
inline constexpr std::uint16_t class_in = 1;

struct question {
    std::string name;  // dotted, without the trailing dot: "_arduino._tcp.local"
    rr_type type = rr_type::ptr;
    bool unicast_response = false;  // the QU bit (top bit of the class)
};

struct record {
    std::string name;
    rr_type type = rr_type::a;
    bool cache_flush = false;  // top bit of the class in responses
    std::uint32_t ttl = 120;
    // Decoded data, by type:
    std::string target;                 // PTR: the instance name; SRV: the host name
    std::uint16_t priority = 0, weight = 0, port = 0;  // SRV
    std::vector<std::string> txt;       // TXT: "key=value" strings
    std::array<std::uint8_t, 16> address{};  // A: first 4 bytes; AAAA: all 16
};

struct message {
    std::uint16_t id = 0;
    bool response = false;
    bool authoritative = false;
    std::vector<question> questions;
    std::vector<record> answers;
    std::vector<record> authorities;
    std::vector<record> additionals;
};

// Names are written uncompressed (they are few and short); labels over 63 bytes or names over 255
// are a programming error on our side and throw std::invalid_argument.
bytes encode(const message& msg);

// Bounded: every length is checked against the datagram, compression pointers may only point
// backwards and at most 32 deep. Unknown record types are skipped.
result<message> decode(byte_view datagram);

std::string address_text(const record& r);  // "192.168.1.5" / "fe80::1"

}  // namespace otaflash::mdns
