// The emulator library used in-process: several devices on one io_context (the shape a fleet
// runner needs), events through a custom sink, stop() from the io thread.

#include "ota_host.hpp"

#include "emulator/ota/device.hpp"
#include "emulator/ota/fleet.hpp"
#include "emulator/ota/listener.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

using namespace otaflash;
using namespace otaflash::test;
namespace ota = otaflash::emulator::ota;

namespace {

// Collects events on the io thread; the test thread waits for them.
class collecting_sink final : public ota::event_sink {
public:
    void on_event(const ota::device_event& event) override {
        std::lock_guard lock(mutex_);
        events_.push_back(event);
        changed_.notify_all();
    }

    template <class Event>
    std::optional<Event> wait_for(std::size_t nth, ms timeout) {
        std::unique_lock lock(mutex_);
        std::optional<Event> found;
        changed_.wait_for(lock, timeout, [&] {
            std::size_t seen = 0;
            for (const auto& e : events_)
                if (const auto* match = std::get_if<Event>(&e); match && seen++ == nth) found = *match;
            return found.has_value();
        });
        return found;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<ota::device_event> events_;
};

TEST(OtaDeviceInProcess, TwoDevicesShareOneIoContext) {
    boost::asio::io_context io;
    collecting_sink esp8266_events, esp32_events;
    ota::device_config a;
    a.kind = ota::device_kind::esp8266;
    a.port = 0;
    a.time_scale = 0.1;
    ota::device_config b = a;
    b.kind = ota::device_kind::esp32;
    ota::device esp8266(io.get_executor(), a, esp8266_events);
    ota::device esp32(io.get_executor(), b, esp32_events);
    ASSERT_TRUE(esp8266.start().ok());
    ASSERT_TRUE(esp32.start().ok());
    std::thread runner([&] { io.run(); });

    const bytes image = sample_image(3000);
    for (auto* d : {&esp8266, &esp32}) {
        udp_peer host;
        tcp_server server;
        host.send_to(d->port(), invitation(0, server.port(), image.size(), md5_hex(image)));
        EXPECT_EQ(host.receive(ms(3000)), "OK");
        auto s = server.accept(ms(3000));
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->send(image));
        auto end = s->receive_until_closed(ms(5000));
        EXPECT_TRUE(end.ended);
        EXPECT_EQ(end.bytes.substr(end.bytes.size() - 2), "OK");
    }
    for (auto* sink : {&esp8266_events, &esp32_events}) {
        auto done = sink->wait_for<ota::update_event>(0, ms(3000));
        ASSERT_TRUE(done);
        EXPECT_TRUE(done->ok);
        EXPECT_EQ(done->received, image.size());
    }
    EXPECT_EQ(esp8266_events.wait_for<ota::ready_event>(0, ms(100)).value().kind, "esp8266");
    EXPECT_EQ(esp32_events.wait_for<ota::ready_event>(0, ms(100)).value().kind, "esp32");

    boost::asio::post(io, [&] {
        esp8266.stop();
        esp32.stop();
        io.stop();
    });
    runner.join();
}

TEST(OtaDeviceInProcess, StartFailsCleanlyOnABadAddress) {
    boost::asio::io_context io;
    collecting_sink events;
    ota::device_config c;
    c.bind_address = "not-an-address";
    ota::device d(io.get_executor(), c, events);
    auto started = d.start();
    ASSERT_FALSE(started.ok());
    EXPECT_EQ(started.error().code, errc::usage_error);
}

}  // namespace

namespace {

TEST(OtaFleetInProcess, AdvertisesWhatEachDeviceIsAndRefusesTwoDevicesWithOneName) {
    boost::asio::io_context io;
    collecting_sink a_events, b_events, c_events;
    ota::fleet fleet(io);
    ota::device_config a;
    a.port = 0;
    a.hostname = "twin";
    ota::device_config b = a;
    b.kind = ota::device_kind::esp32;
    b.password = ota::stored_password("s3cret", ota::stored_hash::sha256);
    b.board = "esp32dev";
    ota::device_config c;
    c.kind = ota::device_kind::rp2040;
    c.bind_address = "::1";
    c.port = 0;
    ASSERT_TRUE(fleet.add(a, a_events).ok());
    ASSERT_TRUE(fleet.add(b, b_events).ok());
    ASSERT_TRUE(fleet.add(c, c_events).ok());

    const auto& devices = fleet.devices();
    auto esp8266 = ota::advertisement_for(*devices[0], {"127.0.0.1"});
    EXPECT_EQ(esp8266.hostname, "twin");
    EXPECT_EQ(esp8266.port, devices[0]->port());
    EXPECT_EQ(esp8266.txt, (std::vector<std::string>{"tcp_check=no", "ssh_upload=no", "board=d1_mini", "auth_upload=no"}));
    ASSERT_EQ(esp8266.ipv4.size(), 1u);
    EXPECT_EQ(esp8266.ipv4[0], (std::array<std::uint8_t, 4>{127, 0, 0, 1}));
    EXPECT_EQ(ota::advertisement_for(*devices[1], {"127.0.0.1"}).txt,
              (std::vector<std::string>{"tcp_check=no", "ssh_upload=no", "board=esp32dev", "auth_upload=yes"}));
    auto pico = ota::advertisement_for(*devices[2], {"127.0.0.1"});
    EXPECT_EQ(pico.hostname.substr(0, 5), "pico-");
    EXPECT_TRUE(pico.ipv4.empty());
    ASSERT_EQ(pico.ipv6.size(), 1u);
    EXPECT_EQ(pico.ipv6[0][15], 1);

    ota::mdns_settings nowhere;
    nowhere.port = 0;  // never the real 5353, even if the check below were missing
    auto advertised = fleet.advertise(nowhere);
    ASSERT_FALSE(advertised.ok());
    EXPECT_EQ(advertised.error().code, errc::usage_error);
    EXPECT_NE(advertised.error().message.find("twin.local"), std::string::npos);
    fleet.stop();
}

}  // namespace
