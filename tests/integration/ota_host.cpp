#include "ota_host.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace otaflash::test {
namespace {

using clock_type = std::chrono::steady_clock;

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

std::uint16_t bound_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

int open_bound(int type) {
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    auto a = loopback(0);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind() failed");
    return fd;
}

// Milliseconds left until `deadline` (0 when passed), for poll().
int left(clock_type::time_point deadline) {
    const auto d = std::chrono::duration_cast<ms>(deadline - clock_type::now()).count();
    return d > 0 ? static_cast<int>(d) : 0;
}

bool wait_for(int fd, short events, clock_type::time_point deadline) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, left(deadline)) > 0;
}

}  // namespace

udp_peer::udp_peer() : fd_(open_bound(SOCK_DGRAM)), port_(bound_port(fd_)) {}
udp_peer::~udp_peer() { ::close(fd_); }

void udp_peer::send_to(std::uint16_t port, std::string_view payload) {
    auto a = loopback(port);
    ::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

void udp_peer::send_to(const std::string& address, std::uint16_t port, std::string_view payload) {
    auto a = loopback(port);
    if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127)
        throw std::runtime_error("tests send to loopback addresses only, not " + address);
    ::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

std::optional<std::string> udp_peer::receive(ms timeout) {
    if (!wait_for(fd_, POLLIN, clock_type::now() + timeout)) return std::nullopt;
    std::string buffer(65536, '\0');
    const auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) return std::nullopt;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
}

tcp_stream::~tcp_stream() {
    if (fd_ >= 0) ::close(fd_);
}

bool tcp_stream::send(byte_view data, ms timeout) {
    const auto deadline = clock_type::now() + timeout;
    std::size_t put = 0;
    while (put < data.size()) {
        if (!wait_for(fd_, POLLOUT, deadline)) return false;
        const auto n = ::send(fd_, data.data() + put, data.size() - put, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n <= 0) return false;
        put += static_cast<std::size_t>(n);
    }
    return true;
}

tcp_stream::chunk tcp_stream::receive(ms timeout) {
    chunk c;
    if (!wait_for(fd_, POLLIN, clock_type::now() + timeout)) return c;
    std::string buffer(65536, '\0');
    const auto n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) {
        buffer.resize(static_cast<std::size_t>(n));
        c.bytes = std::move(buffer);
    } else if (n == 0) {
        c.ended = true;
    } else if (errno == ECONNRESET) {
        c.ended = c.reset = true;
    }
    return c;
}

tcp_stream::chunk tcp_stream::receive_at_least(std::size_t n, ms timeout) {
    const auto deadline = clock_type::now() + timeout;
    chunk all;
    while (all.bytes.size() < n && !all.ended && clock_type::now() < deadline) {
        auto c = receive(ms(left(deadline)));
        all.bytes += c.bytes;
        all.ended = c.ended;
        all.reset = c.reset;
    }
    return all;
}

tcp_stream::chunk tcp_stream::receive_until_closed(ms timeout) {
    return receive_at_least(std::string::npos, timeout);
}

bool tcp_stream::quiet_for(ms duration) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(duration.count())) == 0;
}

void tcp_stream::close_with_reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
}

void tcp_stream::limit_send_buffer(int bytes) { ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes); }

void tcp_stream::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

std::string tcp_stream::peer_address() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    return text;
}

tcp_server::tcp_server() : fd_(open_bound(SOCK_STREAM)), port_(bound_port(fd_)) { ::listen(fd_, 4); }
tcp_server::~tcp_server() { ::close(fd_); }

std::optional<tcp_stream> tcp_server::accept(ms timeout) {
    if (!wait_for(fd_, POLLIN, clock_type::now() + timeout)) return std::nullopt;
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return std::nullopt;
    return tcp_stream(fd);
}

refused_port::refused_port() : fd_(open_bound(SOCK_STREAM)), port_(bound_port(fd_)) {}
refused_port::~refused_port() { ::close(fd_); }

ota_device_process::ota_device_process(std::vector<std::string> args, process_options options)
    : process_([&] {
          args.insert(args.begin(), bin_path("otaflash-ota-device"));
          return args;
      }(), options) {
    auto line = process_.read_line(ms(10000));
    if (!line) throw std::runtime_error("otaflash-ota-device printed no ready line: " + process_.stop().err);
    ready_ = nlohmann::json::parse(*line);
    port_ = ready_.at("port").get<std::uint16_t>();
}

std::optional<nlohmann::json> ota_device_process::next_event(ms timeout) {
    auto line = process_.read_line(timeout);
    if (!line) return std::nullopt;
    return nlohmann::json::parse(*line);
}

std::optional<nlohmann::json> ota_device_process::wait_event(std::string_view name, ms timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
        auto e = next_event(ms(left(deadline)));
        if (!e) return std::nullopt;
        if ((*e)["event"] == name) return e;
    }
    return std::nullopt;
}

std::optional<int> ota_device_process::wait_exit(ms timeout) {
    const auto deadline = clock_type::now() + timeout;
    while (clock_type::now() < deadline) {
        if (!process_.running()) return process_.stop().exit_code;
        ::usleep(10000);
    }
    return std::nullopt;
}

std::uint16_t private_mdns_port() {
    std::random_device rd;
    return static_cast<std::uint16_t>(20000 + rd() % 30000);
}

namespace {
std::vector<std::string> with_mdns(std::vector<std::string> args, std::uint16_t port) {
    args.insert(args.begin(), {"--mdns", "--mdns-port", std::to_string(port)});
    return args;
}
}  // namespace

emulated_fleet::emulated_fleet(std::uint16_t mdns_port, std::vector<std::string> args, process_options options)
    : process_(with_mdns(std::move(args), mdns_port), std::move(options)) {
    ready_.push_back(process_.ready());
    for (;;) {
        auto e = process_.next_event(ms(10000));
        if (!e) throw std::runtime_error("the emulated fleet never said its mDNS responder answers");
        if ((*e)["event"] == "mdns") break;
        ready_.push_back(*e);
    }
}

const nlohmann::json& emulated_fleet::named(const std::string& hostname) const {
    for (const auto& r : ready_)
        if (r["hostname"] == hostname) return r;
    throw std::runtime_error("no emulated device called " + hostname);
}

std::string md5_hex(byte_view data) { return to_hex(md5(data)); }

std::string invitation(int command, std::uint16_t host_port, std::size_t size, std::string_view md5) {
    return std::to_string(command) + " " + std::to_string(host_port) + " " + std::to_string(size) + " " +
           std::string(md5) + "\n";
}

bytes sample_image(std::size_t size, std::uint8_t first) {
    bytes image(size);
    for (std::size_t i = 0; i < size; ++i) image[i] = static_cast<std::uint8_t>((i * 131 + 7) & 0xFF);
    if (size > 0) image[0] = first;
    return image;
}

}  // namespace otaflash::test
