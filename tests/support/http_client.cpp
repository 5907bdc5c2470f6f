#include "http_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace otaflash::test {
namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, static_cast<int>(left)) > 0;
}

}  // namespace

std::optional<std::string> http_reply::header(const std::string& name) const {
    for (const auto& [k, v] : headers)
        if (lower(k) == lower(name)) return v;
    return std::nullopt;
}

std::string request_text(const std::string& method, const std::string& target, std::uint16_t port,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string text = method + " " + target + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
    for (const auto& [k, v] : headers) text += k + ": " + v + "\r\n";
    return text + "\r\n";
}

int connect_loopback(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::optional<http_reply> parse_reply(const std::string& raw) {
    auto end = raw.find("\r\n\r\n");
    if (end == std::string::npos || !raw.starts_with("HTTP/1.")) return std::nullopt;
    http_reply r;
    r.head = raw.substr(0, end + 4);
    r.body = raw.substr(end + 4);
    auto line_end = raw.find("\r\n");
    auto status_line = raw.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::atoi(status_line.substr(9, 3).c_str());
    std::size_t pos = line_end + 2;
    while (pos < end) {
        auto next = raw.find("\r\n", pos);
        auto line = raw.substr(pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            auto value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            r.headers.emplace_back(line.substr(0, colon), value);
        }
        pos = next + 2;
    }
    return r;
}

std::optional<http_reply> http_exchange(std::uint16_t port, const std::string& raw, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int fd = connect_loopback(port);
    if (fd < 0) return std::nullopt;
    std::size_t sent = 0;
    while (sent < raw.size()) {
        auto n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;  // the server may answer (431) and close before reading it all
        sent += static_cast<std::size_t>(n);
    }
    std::string in;
    char buf[65536];
    while (wait_fd(fd, POLLIN, deadline)) {
        auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return parse_reply(in);
}

std::optional<http_reply> http_get(std::uint16_t port, const std::string& target,
                              const std::vector<std::pair<std::string, std::string>>& headers) {
    return http_exchange(port, request_text("GET", target, port, headers));
}

std::optional<http_reply> https_exchange(std::uint16_t port, const std::string& raw, const tls_options& options,
                                       std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int fd = connect_loopback(port);
    if (fd < 0) return std::nullopt;
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (options.max_version) {
        SSL_CTX_set_security_level(ctx, 0);  // let the client offer an old version, to see it refused
        SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(ctx, options.max_version);
    }
    if (!options.ca_file.empty()) {
        SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    std::optional<http_reply> reply;
    // Blocking I/O bounded by a receive timeout on the socket.
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    timeval tv{static_cast<time_t>(left / 1000000), static_cast<suseconds_t>(left % 1000000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, raw.data(), static_cast<int>(raw.size())) > 0) {
        std::string in;
        char buf[65536];
        while (std::chrono::steady_clock::now() < deadline) {
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n <= 0) break;
            in.append(buf, static_cast<std::size_t>(n));
        }
        reply = parse_reply(in);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    ::close(fd);
    return reply;
}

}  // namespace otaflash::test
