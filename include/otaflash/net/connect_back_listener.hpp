#pragma once
// The TCP listener devices connect back to. Separate from the sessions so that one listener (one
// --host-port, one firewall rule) can serve many sessions: each session registers the address of
// its device and receives the connection that comes from that address; connections from anyone
// else are reset.

#include <otaflash/log.hpp>
#include <otaflash/result.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace otaflash::net {

class event_loop;

class connect_back_listener {
public:
    // `bind_address` may be a wildcard ("0.0.0.0", "::": dual-stack); port 0 lets the kernel choose.
    static result<std::unique_ptr<connect_back_listener>> open(event_loop& loop, const std::string& bind_address,
                                                               std::uint16_t port, log_sink& log);
    ~connect_back_listener();
    connect_back_listener(const connect_back_listener&) = delete;
    connect_back_listener& operator=(const connect_back_listener&) = delete;

    std::uint16_t port() const noexcept;
    const std::string& address() const noexcept;
    void close();

    struct impl;
    impl& native() noexcept { return *impl_; }

private:
    explicit connect_back_listener(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace otaflash::net
