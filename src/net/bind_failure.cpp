#include <otaflash/net/bind_failure.hpp>

#include <otaflash/util/endpoint_text.hpp>

#include <boost/asio/error.hpp>

namespace otaflash::net {

namespace asio = boost::asio;

failure bind_failure(const std::string& address, std::uint16_t port, const boost::system::error_code& ec,
                     const listen_options& names) {
    const std::string where = endpoint_text(address, port);
    const std::string port_option{names.port}, address_option{names.address};
    if (ec == asio::error::address_in_use)
        return make_failure(errc::port_busy, std::string(names.protocol) + " port " + where + " is already in use",
                            "choose another " + port_option + ", or stop the program that holds it");
    if (ec == asio::error::access_denied)
        return make_failure(errc::permission_denied, "not allowed to listen on " + where,
                            "ports below 1024 need privileges: give " + port_option + " a port of 1024 or more");
    if (ec == boost::system::errc::address_not_available)
        return make_failure(errc::bind_failed, address + " is not an address of this machine",
                            "give " + address_option + " one of this machine's addresses (see 'ip addr')");
    return make_failure(errc::bind_failed, "cannot listen on " + where + ": " + ec.message(),
                        "check " + address_option + (port_option == address_option ? "" : " and " + port_option));
}

}  // namespace otaflash::net
