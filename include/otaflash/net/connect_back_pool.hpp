#pragma once
// The connect-back listeners of a run. A listener tells its sessions apart by the address their
// device connects from, so it can serve any number of devices at once as long as they have
// distinct addresses. Devices that share one address (port forwarding, containers, emulators)
// each need a listener of their own: the pool opens more on a local address as they are needed,
// taking their ports from the run's port choice, and when no port is left such a device waits
// until a listener is free of its address.

#include <otaflash/log.hpp>
#include <otaflash/net/target.hpp>
#include <otaflash/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace otaflash::net {

class event_loop;
class connect_back_listener;

// Where the ports of the listeners come from.
struct host_port_choice {
    // Empty: the kernel picks each port. Set: ports in order from `fixed->first`, skipping those in
    // use; at most fixed->size() listeners per local address (one port: one listener, and devices
    // at one address take turns).
    std::optional<port_range> fixed;
    bool espota_random = false;  // without `fixed`: random ports in 10000..60000, as espota.py picks them
};

class connect_back_pool {
public:
    connect_back_pool(event_loop& loop, host_port_choice ports, log_sink& log);
    ~connect_back_pool();
    connect_back_pool(const connect_back_pool&) = delete;
    connect_back_pool& operator=(const connect_back_pool&) = delete;

    // Opens the first listener on `bind` (before anything is sent, so that an unusable address or
    // port refuses the run).
    result<void> open_first(const std::string& bind);

    // A listener on `bind` serving no session from `device`, opened if need be; nullptr when every
    // port allowed on `bind` serves `device` already (release() one, then ask again). An error only
    // when `bind` has no listener and none can be opened.
    result<connect_back_listener*> acquire(const std::string& bind, const std::string& device);
    void release(connect_back_listener* listener, const std::string& device);

    // How many sessions from one address can run at once on `bind` (0: no limit).
    unsigned per_address_limit() const noexcept;

    void close();

private:
    struct slot {
        std::unique_ptr<connect_back_listener> listener;
        std::string bind;
        std::set<std::string> serving;  // device addresses with a session on it now
    };
    result<connect_back_listener*> open(const std::string& bind);
    unsigned count_on(const std::string& bind) const;

    event_loop& loop_;
    host_port_choice ports_;
    log_sink& log_;
    std::vector<slot> slots_;
};

}  // namespace otaflash::net
