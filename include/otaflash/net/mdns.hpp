#pragma once
// mDNS on the wire: browsing and `name.local` resolution for the CLI (each call runs its own short
// io_context and returns when its deadline passes), and a responder that emulated devices run on
// a shared io_context. IPv4 only (224.0.0.251).

#include <otaflash/log.hpp>
#include <otaflash/proto/mdns/dns_sd.hpp>
#include <otaflash/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace otaflash::net {

struct mdns_options {
    std::chrono::milliseconds timeout{3000};
    // IPv4 addresses of the interfaces to ask on; empty: every interface that is up (loopback
    // included, so emulated devices on this machine are found too).
    std::vector<std::string> interfaces;
    std::uint16_t port = mdns::port;  // another port only for tests that must not meet real responders
    std::string group = mdns::ipv4_group;
};

// Every `service` instance that answers within the timeout (resolved or not).
result<std::vector<mdns::service_instance>> browse(const std::string& service, const mdns_options& options,
                                                    log_sink& log);

// Addresses of `host` ("name.local"); errc::host_not_found when nobody answers in time.
result<std::vector<std::string>> resolve_local_name(const std::string& host, const mdns_options& options,
                                                     log_sink& log);

bool is_local_name(const std::string& host) noexcept;  // ends in ".local" (case-insensitive)

// Answers queries for the given advertisements until destroyed: unique records at once, the
// shared PTR of a browse after a random 20-120 ms (RFC 6762 §6), one-shot queriers by unicast.
class mdns_responder {
public:
    mdns_responder(boost::asio::io_context& io, std::vector<mdns::advertisement> ads, const mdns_options& options,
                   log_sink& log);
    ~mdns_responder();
    mdns_responder(const mdns_responder&) = delete;
    mdns_responder& operator=(const mdns_responder&) = delete;

    result<void> start();

private:
    struct impl;
    std::shared_ptr<impl> impl_;  // shared with its running coroutine and pending answers
};

}  // namespace otaflash::net
