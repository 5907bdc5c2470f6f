#include "emulator/ota/fleet.hpp"

#include <otaflash/net/mdns.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <map>

namespace otaflash::emulator::ota {

mdns::advertisement advertisement_for(const device& d, const std::vector<std::string>& interfaces) {
    namespace ip = boost::asio::ip;
    mdns::advertisement ad;
    ad.hostname = d.hostname();
    ad.port = d.port();
    ad.txt = {"tcp_check=no", "ssh_upload=no", "board=" + d.board(),
              std::string("auth_upload=") + (d.has_password() ? "yes" : "no")};
    auto add = [&](const ip::address& a) {
        if (a.is_v4()) ad.ipv4.push_back(a.to_v4().to_bytes());
        else ad.ipv6.push_back(a.to_v6().to_bytes());
    };
    boost::system::error_code ec;
    const auto bound = ip::make_address(d.address(), ec);
    if (!ec && !bound.is_unspecified()) {
        add(bound);
    } else {
        for (const auto& itf : interfaces)
            if (auto a = ip::make_address(itf, ec); !ec) add(a);
    }
    return ad;
}

fleet::fleet(boost::asio::io_context& io, log_sink& log) : io_(io), log_(log) {}

fleet::~fleet() { stop(); }

result<void> fleet::add(device_config config, event_sink& events) {
    devices_.push_back(std::make_unique<device>(io_.get_executor(), std::move(config), events, log_));
    return devices_.back()->start();
}

result<void> fleet::advertise(const mdns_settings& settings) {
    std::map<std::string, const device*> by_name;
    std::vector<mdns::advertisement> ads;
    for (const auto& d : devices_) {
        std::string key = d->hostname();
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
        if (auto [at, fresh] = by_name.emplace(key, d.get()); !fresh)
            return make_failure(errc::usage_error,
                                "the devices on " + at->second->address() + ":" + std::to_string(at->second->port()) +
                                    " and " + d->address() + ":" + std::to_string(d->port()) + " are both called " +
                                    d->hostname() + ".local",
                                "give them hostnames, e.g. --hostname esp-%d or hostname=esp-%d in --devices");
        ads.push_back(advertisement_for(*d, settings.interfaces));
    }
    net::mdns_options options;
    options.port = settings.port;
    options.interfaces = settings.interfaces;
    responder_ = std::make_unique<net::mdns_responder>(io_, std::move(ads), options, log_);
    if (auto started = responder_->start(); !started) {
        responder_.reset();
        return started;
    }
    return {};
}

void fleet::stop() {
    responder_.reset();
    for (auto& d : devices_) d->stop();
}

}  // namespace otaflash::emulator::ota
