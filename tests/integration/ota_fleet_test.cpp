// Mixed fleets in one otaflash-ota-device process: every group behaves as its SPEC says and every
// event names the device it came from.

#include "ota_host.hpp"

#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace otaflash;
using namespace otaflash::test;

namespace {

struct member {
    std::string kind;
    std::string address;
    std::uint16_t port = 0;
};

// The ready lines of a fleet of `count` devices, by hostname.
std::map<std::string, member> read_fleet(ota_device_process& fleet, std::size_t count) {
    std::map<std::string, member> out;
    auto add = [&](const nlohmann::json& ready) {
        EXPECT_EQ(ready.at("event"), "ready");
        EXPECT_EQ(ready.at("device"), ready.at("address").get<std::string>() + ":" + std::to_string(ready.at("port").get<int>()));
        out[ready.at("hostname")] = {ready.at("kind"), ready.at("address"), ready.at("port")};
    };
    add(fleet.ready());
    while (out.size() < count) {
        auto next = fleet.next_event(ms(5000));
        if (!next) break;
        add(*next);
    }
    return out;
}

TEST(OtaFleet, MixedGroupsEachBehaveAsTheirSpecSaysAndEventsNameTheirDevice) {
    temp_dir dir;
    process_options options;
    options.env["OTAFLASH_TEST_FLEET_PW"] = "s3cret";
    options.unset_env = {"OTAFLASH_DEVICE_PASSWORD"};
    ota_device_process fleet({"--port", "0", "--time-scale", "0.1", "--out", dir.file("got-%d.bin"),
                              "--devices", "count=2,hostname=ok-%d",
                              "--devices", "count=2,kind=esp32,hostname=full-%d,fault=no-space",
                              "--devices", "kind=rp2040,hostname=mute-%d,fault=silent",
                              "--devices", "kind=esp32,hostname=locked-%d,password-env=OTAFLASH_TEST_FLEET_PW"},
                             options);
    auto devices = read_fleet(fleet, 6);
    ASSERT_EQ(devices.size(), 6u);
    EXPECT_EQ(devices["ok-1"].kind, "esp8266");
    EXPECT_EQ(devices["full-3"].kind, "esp32");
    EXPECT_EQ(devices["mute-4"].kind, "rp2040");
    EXPECT_EQ(devices["locked-5"].kind, "esp32");

    // ok-0 takes a whole image and writes it to its own file.
    const bytes image = sample_image(5000);
    {
        udp_peer host;
        tcp_server server;
        host.send_to(devices["ok-0"].port, invitation(0, server.port(), image.size(), md5_hex(image)));
        EXPECT_EQ(host.receive(ms(3000)), "OK");
        auto s = server.accept(ms(3000));
        ASSERT_TRUE(s);
        ASSERT_TRUE(s->send(image));
        auto end = s->receive_until_closed(ms(5000));
        EXPECT_NE(end.bytes.find("OK"), std::string::npos) << end.bytes;
    }
    // ok-1 accepts, then cannot reach the host; the no-space esp32s say OK and never dial.
    refused_port refused;
    for (const char* name : {"ok-1", "full-2", "full-3"}) {
        udp_peer host;
        host.send_to(devices[name].port, invitation(0, refused.port(), 100, std::string(32, 'a')));
        EXPECT_EQ(host.receive(ms(3000)), "OK") << name;
    }
    udp_peer mute_host, locked_host;
    mute_host.send_to(devices["mute-4"].port, invitation(0, refused.port(), 100, std::string(32, 'a')));
    locked_host.send_to(devices["locked-5"].port, invitation(0, refused.port(), 100, std::string(32, 'a')));
    auto challenge = locked_host.receive(ms(3000));
    ASSERT_TRUE(challenge);
    EXPECT_EQ(challenge->substr(0, 5), "AUTH ");
    EXPECT_EQ(challenge->size(), 5u + 64u);  // esp32: the PBKDF2 scheme's nonce
    EXPECT_FALSE(mute_host.receive(ms(300)));

    // Every update event comes from the device it belongs to. The devices write their lines
    // independently: locked-5's invitation may come after the four updates, so read until both.
    std::map<std::string, nlohmann::json> updates;
    std::vector<std::string> invited;
    const auto locked_invited = [&] { return std::find(invited.begin(), invited.end(), "locked-5") != invited.end(); };
    for (int i = 0; i < 40 && (updates.size() < 4 || !locked_invited()); ++i) {
        auto e = fleet.next_event(ms(5000));
        ASSERT_TRUE(e) << "only " << updates.size() << " update events, locked-5 invited: " << locked_invited();
        const std::string host = e->at("hostname");
        const auto& d = devices[host];
        EXPECT_EQ(e->at("device"), d.address + ":" + std::to_string(d.port));
        if (e->at("event") == "invitation") invited.push_back(host);
        if (e->at("event") == "update") updates[host] = *e;
    }
    ASSERT_EQ(updates.size(), 4u);
    EXPECT_TRUE(updates["ok-0"]["ok"].get<bool>());
    EXPECT_EQ(updates["ok-0"]["file"], dir.file("got-0.bin"));
    EXPECT_EQ(slurp(dir.file("got-0.bin")), image);
    EXPECT_FALSE(updates["ok-1"]["ok"].get<bool>());
    EXPECT_EQ(updates["ok-1"]["stage"], "connect");
    for (const char* name : {"full-2", "full-3"}) {
        EXPECT_FALSE(updates[name]["ok"].get<bool>()) << name;
        EXPECT_EQ(updates[name]["stage"], "begin") << name;
    }
    auto rest = fleet.stop();
    EXPECT_EQ(rest.exit_code, 0);
    EXPECT_EQ(std::count(invited.begin(), invited.end(), "mute-4"), 0);
    EXPECT_EQ(rest.out.find("mute-4"), std::string::npos) << rest.out;  // silent: not even an invitation
    EXPECT_TRUE(locked_invited());
}

TEST(OtaFleet, FleetFileDescribesGroupsAndNamesTheLineOfAMistake) {
    temp_dir dir;
    const auto file = dir.write("fleet.txt", std::string("# bench rack 2\n"
                                                         "count=2,kind=esp32-legacy,port=0\n"
                                                         "\n"
                                                         "kind=rp2040,port=0,board=custom\n"));
    ota_device_process fleet({"--fleet", file});
    std::vector<nlohmann::json> ready{fleet.ready()};
    for (int i = 0; i < 2; ++i) ready.push_back(fleet.next_event(ms(5000)).value());
    EXPECT_EQ(ready[0]["kind"], "esp32-legacy");
    EXPECT_EQ(ready[1]["kind"], "esp32-legacy");
    EXPECT_EQ(ready[2]["kind"], "rp2040");
    EXPECT_EQ(ready[2]["board"], "custom");
    EXPECT_EQ(ready[0]["board"], "esp32");
    fleet.stop();

    const auto bad = dir.write("bad.txt", std::string("count=1,port=0\n# fine so far\ncount=2,flash-size=huge\n"));
    auto r = run_process({bin_path("otaflash-ota-device"), "--fleet", bad});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("bad.txt:3"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("flash-size=huge"), std::string::npos) << r.err;

    auto missing = run_process({bin_path("otaflash-ota-device"), "--fleet", dir.file("absent.txt")});
    EXPECT_EQ(missing.exit_code, 4);
    auto empty = run_process({bin_path("otaflash-ota-device"), "--fleet", dir.write("empty.txt", std::string("# none\n"))});
    EXPECT_EQ(empty.exit_code, 2);
}

TEST(OtaFleet, MdnsPortThatCannotBeSharedIsALocalResourceError) {
    udp_peer taken;  // bound without SO_REUSEADDR/SO_REUSEPORT
    auto r = run_process({bin_path("otaflash-ota-device"), "--port", "0", "--mdns", "--mdns-port",
                          std::to_string(taken.port())},
                         [] {
                             process_options o;
                             o.timeout = ms(10000);
                             return o;
                         }());
    EXPECT_EQ(r.exit_code, 9) << r.err;
    EXPECT_NE(r.err.find(std::to_string(taken.port())), std::string::npos) << r.err;
}

}  // namespace
