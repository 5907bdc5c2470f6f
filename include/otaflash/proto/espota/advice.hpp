#pragma once
// Turning what a device said (or did not say) into a failure a person can act on: which errc,
// what happened in plain words, and what to do (../shared/protocols/espota.md §3, §6.4, §7 and
// ../shared/protocols/user-needs.md §1, §8).

#include <otaflash/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace otaflash::espota {

// "ERR: <text>" in answer to the invitation: Update.begin() refused before any data flowed.
failure refusal_failure(std::string_view device_text);

// Text the device sent instead of "OK" on the TCP connection (after or during the transfer).
failure final_text_failure(std::string_view device_text);

// Firewall rules that let `device` connect to TCP `port` on this host (ufw, iptables, nft).
std::string firewall_rules(std::string_view device, std::uint16_t port);

// The device said OK but never connected to `listen_address`:`port`.
failure no_connect_back_failure(std::string_view device, std::string_view listen_address, std::uint16_t port,
                                bool port_pinned);

}  // namespace otaflash::espota
