#pragma once
// Why listening on ADDRESS:PORT failed, said one way by everything that listens (push's
// connect-back, serve's --listen, the emulated devices): port in use, privileged port, an address
// not of this machine, or the system's words; each with the options to change.

#include <otaflash/error.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace otaflash::net {

struct listen_options {
    std::string_view address, port;  // {"--host-ip", "--host-port"}, {"--listen", "--listen"}
    std::string_view protocol = "TCP";
};

failure bind_failure(const std::string& address, std::uint16_t port, const boost::system::error_code& ec,
                     const listen_options& names);

}  // namespace otaflash::net
