#include <otaflash/net/connect_back_listener.hpp>
#include <otaflash/net/connect_back_pool.hpp>

#include <algorithm>
#include <random>

namespace otaflash::net {
namespace {

// espota.py picks its port at random in 10000..60000; a few tries get past ports in use.
result<std::unique_ptr<connect_back_listener>> open_in_espota_range(event_loop& loop, const std::string& bind,
                                                                    log_sink& log) {
    std::random_device seed;
    std::mt19937 pick{seed()};
    std::uniform_int_distribution<int> port{10000, 60000};
    for (int attempt = 0;; ++attempt) {
        auto listener = connect_back_listener::open(loop, bind, static_cast<std::uint16_t>(port(pick)), log);
        if (listener || listener.error().code != errc::port_busy || attempt == 20) return listener;
    }
}

}  // namespace

connect_back_pool::connect_back_pool(event_loop& loop, host_port_choice ports, log_sink& log)
    : loop_(loop), ports_(ports), log_(log) {}

connect_back_pool::~connect_back_pool() { close(); }

unsigned connect_back_pool::per_address_limit() const noexcept { return ports_.fixed ? ports_.fixed->size() : 0; }

unsigned connect_back_pool::count_on(const std::string& bind) const {
    return static_cast<unsigned>(std::count_if(slots_.begin(), slots_.end(), [&](const slot& s) { return s.bind == bind; }));
}

result<connect_back_listener*> connect_back_pool::open(const std::string& bind) {
    auto keep = [&](std::unique_ptr<connect_back_listener> listener) {
        slots_.push_back({std::move(listener), bind, {}});
        return slots_.back().listener.get();
    };
    if (!ports_.fixed) {
        auto opened = ports_.espota_random ? open_in_espota_range(loop_, bind, log_)
                                           : connect_back_listener::open(loop_, bind, 0, log_);
        if (!opened) return std::move(opened).error();
        return keep(std::move(*opened));
    }
    // The lowest port of the range not yet ours on this address, skipping those in use.
    std::set<std::uint16_t> ours;
    for (const auto& s : slots_)
        if (s.bind == bind) ours.insert(s.listener->port());
    std::optional<failure> refused;
    for (unsigned port = ports_.fixed->first; port <= ports_.fixed->last; ++port) {
        if (ours.contains(static_cast<std::uint16_t>(port))) continue;
        auto opened = connect_back_listener::open(loop_, bind, static_cast<std::uint16_t>(port), log_);
        if (opened) return keep(std::move(*opened));
        refused = std::move(opened).error();
        if (refused->code != errc::port_busy) break;
    }
    if (!refused) return static_cast<connect_back_listener*>(nullptr);  // every port of the range is ours
    if (ports_.fixed->size() > 1 && refused->code == errc::port_busy)
        refused->message = "every TCP port of " + std::to_string(ports_.fixed->first) + "-" +
                           std::to_string(ports_.fixed->last) + " on " + bind + " is in use";
    return *refused;
}

result<void> connect_back_pool::open_first(const std::string& bind) {
    if (count_on(bind) > 0) return {};
    auto opened = open(bind);
    if (!opened) return std::move(opened).error();
    return {};
}

result<connect_back_listener*> connect_back_pool::acquire(const std::string& bind, const std::string& device) {
    for (auto& s : slots_) {
        if (s.bind == bind && !s.serving.contains(device)) {
            s.serving.insert(device);
            return s.listener.get();
        }
    }
    const unsigned here = count_on(bind);
    if (ports_.fixed && here >= ports_.fixed->size()) return static_cast<connect_back_listener*>(nullptr);
    auto opened = open(bind);
    if (!opened) {
        if (here == 0) return opened;
        // Another program holds the rest of the range: this device waits for one of ours.
        log_.write(log_level::debug, "no further connect-back port on " + bind + ": " + opened.error().message);
        return static_cast<connect_back_listener*>(nullptr);
    }
    if (*opened) slots_.back().serving.insert(device);
    return opened;
}

void connect_back_pool::release(connect_back_listener* listener, const std::string& device) {
    for (auto& s : slots_)
        if (s.listener.get() == listener) s.serving.erase(device);
}

void connect_back_pool::close() {
    for (auto& s : slots_) s.listener->close();
}

}  // namespace otaflash::net
