#pragma once
// Many emulated devices on one io_context, and one mDNS responder answering for all of them the
// way each device's ArduinoOTA.begin() would (../shared/protocols/espota.md §10). No thread and no
// timer per idle device: a hundred cost a hundred UDP sockets and under 1 MiB more than one does.

#include "emulator/ota/device.hpp"

#include <otaflash/log.hpp>
#include <otaflash/proto/mdns/dns_sd.hpp>
#include <otaflash/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace otaflash::net {
class mdns_responder;
}

namespace otaflash::emulator::ota {

struct mdns_settings {
    std::uint16_t port = mdns::port;                     // another port only for tests
    std::vector<std::string> interfaces{"127.0.0.1"};    // IPv4 addresses of the interfaces to answer on
};

// What a started device advertises: <hostname>.local with its bound address (the interfaces'
// addresses when it is bound to a wildcard), _arduino._tcp on its UDP port, TXT tcp_check=no,
// ssh_upload=no, board=<board>, auth_upload=yes|no.
mdns::advertisement advertisement_for(const device& d, const std::vector<std::string>& interfaces);

class fleet {
public:
    explicit fleet(boost::asio::io_context& io, log_sink& log = null_log());
    ~fleet();
    fleet(const fleet&) = delete;
    fleet& operator=(const fleet&) = delete;

    // Creates and starts one device reporting to `events` (which must outlive the fleet).
    result<void> add(device_config config, event_sink& events);
    // Answers mDNS for every device added so far. Fails when two devices share a hostname or the
    // mDNS port cannot be bound.
    result<void> advertise(const mdns_settings& settings);
    // Stops every device and the responder; the io_context may go on running other work.
    void stop();

    const std::vector<std::unique_ptr<device>>& devices() const noexcept { return devices_; }

private:
    boost::asio::io_context& io_;
    log_sink& log_;
    std::vector<std::unique_ptr<device>> devices_;
    std::unique_ptr<net::mdns_responder> responder_;
};

}  // namespace otaflash::emulator::ota
