#pragma once
// A small HTTP/1.x client over raw sockets (and OpenSSL for https) for the serve tests: it sends
// exactly the bytes a test writes — hostile ones included — and reads the reply until the server
// closes, so Content-Length, chunking and the body can be checked as a device would.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace otaflash::test {

struct http_reply {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // everything after the head, up to the close
    std::string head;  // the status line and headers as received

    // The first header of that name (case-insensitive), nullopt when absent.
    std::optional<std::string> header(const std::string& name) const;
};

// "GET /firmware.bin HTTP/1.0" with "Host: 127.0.0.1:port" and `headers`, ending the head (the
// Arduino clients' HTTP/1.0: the server closes after the reply).
std::string request_text(const std::string& method, const std::string& target, std::uint16_t port,
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

// A connected TCP socket to 127.0.0.1:port (-1 on failure); the caller closes it.
int connect_loopback(std::uint16_t port);

// Sends `raw`, reads until the server closes (or `timeout`), parses the head. nullopt when the
// connection failed or no complete head came back.
std::optional<http_reply> http_exchange(std::uint16_t port, const std::string& raw,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
std::optional<http_reply> http_get(std::uint16_t port, const std::string& target,
                              const std::vector<std::pair<std::string, std::string>>& headers = {});

// The same over TLS (no certificate verification unless `ca_file` is given; the TLS version
// bounds are set when not 0, e.g. TLS1_1_VERSION to check a server refuses it).
struct tls_options {
    std::string ca_file;
    int max_version = 0;
};
std::optional<http_reply> https_exchange(std::uint16_t port, const std::string& raw, const tls_options& options = {},
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Parses a raw reply (head and body), nullopt when the head is incomplete.
std::optional<http_reply> parse_reply(const std::string& raw);

}  // namespace otaflash::test
