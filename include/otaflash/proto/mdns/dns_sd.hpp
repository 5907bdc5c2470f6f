#pragma once
// DNS-SD over mDNS (RFC 6763): browsing for ArduinoOTA devices (`_arduino._tcp`, advertised on the
// OTA UDP port with TXT board=…, auth_upload=yes|no — ../shared/protocols/espota.md §10), resolving
// `name.local`, and the answering side used by the emulated devices.

#include <otaflash/proto/mdns/message.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::mdns {

inline constexpr const char* arduino_service = "_arduino._tcp.local";

struct service_instance {
    std::string instance;  // full name: "esp8266-0a1b2c._arduino._tcp.local"
    std::string name;      // its first label: "esp8266-0a1b2c"
    std::string host;      // SRV target: "esp8266-0a1b2c.local"
    std::uint16_t port = 0;
    std::vector<std::string> addresses;  // textual, IPv4 first
    std::map<std::string, std::string> txt;

    bool resolved() const noexcept { return port != 0 && !addresses.empty(); }
};

message browse_query(const std::string& service = arduino_service);
message address_query(const std::string& host);  // A and AAAA for "name.local"

// Collects what answers say, in any order and split over any number of datagrams.
class browse_collector {
public:
    explicit browse_collector(std::string service = arduino_service);

    void add(const message& msg);
    // Every instance seen so far, sorted by name (resolved or not).
    std::vector<service_instance> instances() const;
    // Queries for what is still missing (SRV/TXT of known instances, addresses of known hosts);
    // nullopt when everything is resolved.
    std::optional<message> follow_up() const;

private:
    std::string service_;
    std::map<std::string, service_instance> by_instance_;
    std::map<std::string, std::vector<std::string>> addresses_by_host_;
};

// Addresses that answers give for `host` ("name.local"), IPv4 first.
std::vector<std::string> addresses_for(const message& msg, const std::string& host);

// "board=d1_mini" or "board=d1_mini,auth_upload=no": every key must be present with that value
// (case-insensitive keys, exact values). Empty filter matches everything.
result<std::map<std::string, std::string>> parse_txt_filter(std::string_view filter);
bool matches(const service_instance& device, const std::map<std::string, std::string>& filter);

// The answering side: one device's advertisement.
struct advertisement {
    std::string hostname;  // without ".local"
    std::uint16_t port = 0;
    std::vector<std::array<std::uint8_t, 4>> ipv4;
    std::vector<std::array<std::uint8_t, 16>> ipv6;
    std::vector<std::string> txt;  // "board=d1_mini", "auth_upload=no", …
    std::string service = arduino_service;
};

// The response a device sends to `query`, or nullopt when the query asks nothing it owns.
std::optional<message> answer(const message& query, const advertisement& ad);

// True when `reply` answers with shared records (the service's PTR), which many devices send at
// once: RFC 6762 §6 has each responder wait a random 20-120 ms before it sends them.
bool has_shared_answer(const message& reply);

// `reply` reshaped for a one-shot ("legacy") querier that asked from a port other than 5353
// (RFC 6762 §6.7): the query's id and questions repeated, no cache-flush bits, TTLs of at most 10 s.
message legacy_reply(message reply, const message& query);

}  // namespace otaflash::mdns
