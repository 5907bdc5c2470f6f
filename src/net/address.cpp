#include <otaflash/net/address.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <algorithm>

namespace otaflash::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

result<std::vector<std::string>> resolve_host(const std::string& host) {
    boost::system::error_code ec;
    if (auto literal = asio::ip::make_address(host, ec); !ec) return std::vector<std::string>{literal.to_string()};
    asio::io_context io;
    udp::resolver resolver{io};
    auto results = resolver.resolve(host, "", udp::resolver::numeric_service, ec);
    if (ec || results.empty())
        return make_failure(errc::host_not_found, "cannot resolve '" + host + "': " + (ec ? ec.message() : "no address"),
                            "check the name, or give the device's IP address (its serial log prints it; mDNS names "
                            "end in .local)");
    std::vector<std::string> v4, v6;
    for (const auto& entry : results) {
        const auto a = entry.endpoint().address();
        auto& list = a.is_v4() ? v4 : v6;
        const auto text = a.to_string();
        if (std::find(list.begin(), list.end(), text) == list.end()) list.push_back(text);
    }
    v4.insert(v4.end(), v6.begin(), v6.end());
    return v4;
}

result<std::string> local_address_towards(const std::string& device) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(device, ec);
    if (ec) return make_failure(errc::target_invalid, "'" + device + "' is not an IP address", "");
    asio::io_context io;
    udp::socket probe{io};
    // Connecting a UDP socket sends nothing; it only asks the kernel for the route.
    probe.open(address.is_v4() ? udp::v4() : udp::v6(), ec);
    if (!ec) probe.connect(udp::endpoint{address, 9}, ec);
    udp::endpoint local;
    if (!ec) local = probe.local_endpoint(ec);
    if (ec)
        return make_failure(errc::host_not_found, "no route from this machine to " + device + ": " + ec.message(),
                            "check that this machine is on the device's network (VPN, Wi-Fi, cable), or choose the "
                            "local address with --host-ip");
    return local.address().to_string();
}

bool is_wildcard(const std::string& address) {
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(address, ec);
    return !ec && a.is_unspecified();
}

bool is_ipv6(const std::string& address) {
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(address, ec);
    return !ec && a.is_v6();
}

}  // namespace otaflash::net
