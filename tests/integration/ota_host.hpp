#pragma once
// A scripted espota host made of raw POSIX sockets on 127.0.0.1, for checking the emulated device
// byte for byte, and the emulator run as a child process. Every wait has a timeout.

#include "subprocess.hpp"

#include <otaflash/util/bytes.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otaflash::test {

using ms = std::chrono::milliseconds;

class udp_peer {
public:
    udp_peer();
    ~udp_peer();
    udp_peer(const udp_peer&) = delete;
    udp_peer& operator=(const udp_peer&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    void send_to(std::uint16_t port, std::string_view payload);  // to 127.0.0.1
    void send_to(const std::string& address, std::uint16_t port, std::string_view payload);  // 127.x.y.z only
    // The next datagram, or nullopt when none came in time.
    std::optional<std::string> receive(ms timeout);

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

class tcp_stream {
public:
    explicit tcp_stream(int fd) : fd_(fd) {}
    ~tcp_stream();
    tcp_stream(tcp_stream&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    tcp_stream& operator=(tcp_stream&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }

    // Sends everything (false if the connection broke or the peer stopped reading for `timeout`).
    bool send(byte_view data, ms timeout = ms(10000));
    bool send(std::string_view text, ms timeout = ms(10000)) { return send(as_bytes(text), timeout); }

    struct chunk {
        std::string bytes;   // empty when the connection ended or nothing came
        bool ended = false;  // orderly close (FIN) or reset
        bool reset = false;  // ECONNRESET
    };
    // What arrives next (one recv), waiting at most `timeout`.
    chunk receive(ms timeout);
    // Collects until `n` bytes arrived, the connection ended, or the time is up.
    chunk receive_at_least(std::size_t n, ms timeout);
    // Collects until the connection ends or the time is up (then `ended` is false).
    chunk receive_until_closed(ms timeout);
    // True when nothing at all (no byte, no close) arrived during `duration`.
    bool quiet_for(ms duration);
    void close_with_reset();
    // SO_SNDBUF, so that a peer that stops reading blocks our sends sooner.
    void limit_send_buffer(int bytes);
    // Half-close: the peer reads end-of-stream, and we can still read what it sends.
    void shutdown_send();
    std::string peer_address() const;

private:
    int fd_ = -1;
};

class tcp_server {
public:
    tcp_server();
    ~tcp_server();
    tcp_server(const tcp_server&) = delete;
    tcp_server& operator=(const tcp_server&) = delete;
    std::uint16_t port() const noexcept { return port_; }
    std::optional<tcp_stream> accept(ms timeout);

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// A TCP port on 127.0.0.1 that refuses connections (bound, never listening) for as long as it lives.
class refused_port {
public:
    refused_port();
    ~refused_port();
    refused_port(const refused_port&) = delete;
    refused_port& operator=(const refused_port&) = delete;
    std::uint16_t port() const noexcept { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// otaflash-ota-device as a child process on an ephemeral port.
class ota_device_process {
public:
    explicit ota_device_process(std::vector<std::string> args, process_options options = {});
    std::uint16_t port() const noexcept { return port_; }
    const nlohmann::json& ready() const noexcept { return ready_; }
    // The next event line (nullopt if none came in time).
    std::optional<nlohmann::json> next_event(ms timeout = ms(10000));
    // Skips events until one named `name` arrives.
    std::optional<nlohmann::json> wait_event(std::string_view name, ms timeout = ms(10000));
    // Waits for the process to exit on its own (--updates).
    std::optional<int> wait_exit(ms timeout);
    process_result stop() { return process_.stop(); }

private:
    background_process process_;
    nlohmann::json ready_;
    std::uint16_t port_ = 0;
};

// A UDP port for a test's own mDNS group, so parallel tests and a real mDNS daemon never meet.
std::uint16_t private_mdns_port();

// otaflash-ota-device --mdns --mdns-port PORT ARGS... as a child process, read up to its mdns line.
class emulated_fleet {
public:
    emulated_fleet(std::uint16_t mdns_port, std::vector<std::string> args, process_options options = {});
    // Every device's ready line, in fleet order.
    const std::vector<nlohmann::json>& ready() const noexcept { return ready_; }
    const nlohmann::json& named(const std::string& hostname) const;
    ota_device_process& process() noexcept { return process_; }

private:
    ota_device_process process_;
    std::vector<nlohmann::json> ready_;
};

std::string md5_hex(byte_view data);
std::string invitation(int command, std::uint16_t host_port, std::size_t size, std::string_view md5);
// Sample firmware: starts with the image magic 0xE9 unless told otherwise.
bytes sample_image(std::size_t size, std::uint8_t first = 0xE9);

}  // namespace otaflash::test
