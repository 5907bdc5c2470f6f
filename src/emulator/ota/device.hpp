#pragma once
// One emulated ArduinoOTA device on an Asio executor: a UDP socket answering invitations the way
// the chosen kind does, and the connect-back update it then runs. Several devices can share one
// io_context (each binds its own address/port). Events go to `event_sink`, diagnostics to
// `log_sink`; the device never prints.

#include "emulator/ota/events.hpp"
#include "emulator/ota/faults.hpp"
#include "emulator/ota/kind.hpp"

#include <otaflash/crypto/secret.hpp>
#include <otaflash/log.hpp>
#include <otaflash/result.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace otaflash::emulator::ota {

struct device_config {
    device_kind kind = device_kind::esp8266;
    std::string bind_address = "127.0.0.1";
    std::optional<std::uint16_t> port;  // none: the kind's default port; 0: an ephemeral port
    std::optional<secret> password;     // the stored string P (see stored_password()); none = no AUTH
    std::string out_file;               // every accepted image is written here; empty = nowhere
    std::uint64_t flash_size = 1u << 20;
    millis loop_period{5};              // the sketch's loop(): how often handle() runs
    std::uint64_t flash_rate = 0;       // bytes/s the flash accepts; 0 = no limit
    millis ack_latency{0};              // every TCP write leaves this much later
    std::uint32_t recv_buffer = 0;      // SO_RCVBUF of the connect-back socket; 0 = system default
    fault_set faults;
    double time_scale = 1.0;            // multiplies the firmware's delays and timeouts (tests only)
    std::string hostname;               // as setHostname(), without ".local"; empty = the kind's default
    std::string board;                  // what mDNS TXT board= says; empty = the kind's default
};

class device {
public:
    device(boost::asio::any_io_executor executor, device_config config, event_sink& events,
           log_sink& log = null_log());
    ~device();
    device(const device&) = delete;
    device& operator=(const device&) = delete;

    // Binds the UDP socket, reports `ready` and starts answering. Fails if the address is unusable.
    result<void> start();
    // Stops answering and abandons any update under way (sockets closed, timers cancelled).
    void stop();

    std::string address() const;
    std::uint16_t port() const;
    // Known once start() succeeded (the default hostname depends on the bound address and port).
    std::string hostname() const;
    std::string board() const;
    bool has_password() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace otaflash::emulator::ota
