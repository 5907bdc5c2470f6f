#pragma once
// The HTTP and HTTPS transport of `otaflash serve` (Boost.Beast on the run's event loop, OpenSSL
// for TLS ≥ 1.2). What to answer is proto::pull::decide's; this backend parses requests, checks
// device credentials, writes the planned response and times every connection. No Beast or Asio
// header here: the CLI includes this.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/proto/pull/credentials.hpp>
#include <otaflash/proto/pull/decision.hpp>
#include <otaflash/serve/backend.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::server::http {

struct listen_spec {
    std::string address = "0.0.0.0";  // numeric IPv4 or IPv6
    std::uint16_t port = 8070;         // 0: any free port
    bool tls = false;
};

struct tls_files {
    std::string certificate;  // PEM, the chain in order
    std::string key;          // PEM private key
};

struct settings {
    std::vector<listen_spec> listeners;
    std::optional<tls_files> tls;             // required when a listener is TLS
    proto::pull::settings decision;
    proto::pull::device_credentials credentials;  // none configured: no credentials asked
    // A connection must send a whole request head within this (slow-header clients are cut) and
    // may stay idle between requests this long; a body write that makes no progress this long
    // breaks the transfer.
    std::chrono::milliseconds idle_timeout{10000};
    std::size_t header_limit = 8192;  // request line + headers, bytes: larger gets 431
};

std::unique_ptr<serve::backend> make_http_backend(settings options);

}  // namespace otaflash::server::http
