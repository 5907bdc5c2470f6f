#pragma once
// One HTTP or HTTPS exchange of an emulated pulling device (Boost.Beast on the run's event loop):
// a fresh connection per request, as the Arduino clients make them. Every step (name lookup,
// connect, TLS handshake, write, each read) has a deadline. The body can be cut on purpose after
// N bytes (a cellular link dropping mid-download). Asio and Beast stay in the .cpp.

#include "emulator/pull/checks.hpp"

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::net {
class event_loop;
}

namespace otaflash::emulator::pull {

struct http_url {
    bool tls = false;
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";  // path and query
};
// http://host[:port]/path or https://...; fails (usage_error) on anything else.
result<http_url> parse_url(std::string_view url);

struct http_answer {
    unsigned status = 0;
    header_list headers;
    std::optional<std::uint64_t> content_length;
    bytes body;                  // when kept (body_use::keep)
    std::uint64_t received = 0;  // body bytes read, kept or streamed
    bool cut = false;            // dropped on purpose (drop_after)
    bool skipped = false;        // the body was not read (body_use::skip)

    std::string header(std::string_view name) const;  // "" when absent; names in any case
};

// What to do with a body once the status line and headers are in: keep it in the answer (small
// texts: manifests, versions, a refusal's reason; at most 1 MiB), hand it piece by piece to
// `stream` (an image goes to flash, not to memory), or close the connection without reading it,
// as the Arduino clients do when the size is missing or too large.
enum class body_use { keep, stream, skip };

struct http_request {
    http_url url;
    header_list headers;
    bool http10 = false;                      // the Arduino clients' useHTTP10(true)
    std::optional<std::uint64_t> drop_after;  // close the connection after this many body bytes
    std::function<body_use(const http_answer&)> on_head;  // unset: keep
    std::function<void(byte_view)> stream;
};

struct client_settings {
    std::string ca_file;         // verify an https:// server against this CA (PEM); empty: the system's
    bool insecure = false;       // --insecure: no certificate verification at all
    std::chrono::milliseconds timeout{30000};  // each step: lookup, connect, handshake, write, each read
    std::uint32_t rx_window = 0;  // SO_RCVBUF before connecting (a device's small TCP window); 0: the OS's
};

// Failures: host_not_found (no address, refused, or no connection within the timeout: exit 5),
// connection_lost (TLS handshake, a step timed out, the connection broke: exit 7).
void fetch(net::event_loop& loop, const client_settings& settings, http_request request,
           std::function<void(result<http_answer>)> done);

}  // namespace otaflash::emulator::pull
