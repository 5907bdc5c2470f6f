// otaflash-ota-device's command line: help, usage errors and their exit codes, signals.

#include "ota_host.hpp"

#include "fixtures.hpp"

#include "emulator/ota/settings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

using namespace otaflash::test;

namespace {

process_result device_run(std::vector<std::string> args, process_options options = {}) {
    args.insert(args.begin(), bin_path("otaflash-ota-device"));
    options.timeout = ms(10000);
    return run_process(args, options);
}

TEST(OtaDeviceCli, HelpListsKindsFaultsAndEvents) {
    auto r = device_run({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* word : {"esp8266", "esp32-legacy", "rp2040", "--flash-rate", "--ack-latency", "--recv-buffer",
                             "drop-after=N", "stall-after=N", "end-error=TEXT", "connect-idle", "OTAFLASH_DEVICE_PASSWORD"})
        EXPECT_NE(r.out.find(word), std::string::npos) << word;
    // Every key a --devices SPEC takes is named there.
    const std::string keys(otaflash::emulator::ota::setting_names());
    const auto listed = r.out.substr(r.out.find("Keys: ")) + " ";
    std::string flat(listed);
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    for (std::size_t at = 0; at < keys.size();) {
        const auto end = std::min(keys.find(", ", at), keys.size());
        const std::string key = keys.substr(at, end - at);
        EXPECT_TRUE(flat.find(" " + key + ",") != std::string::npos || flat.find(" " + key + ".") != std::string::npos)
            << key;
        at = end + 2;
    }
}

TEST(OtaDeviceCli, UsageErrorsExitWithTwoAndSayWhatToDo) {
    const std::vector<std::vector<std::string>> cases{
        {"--kind", "esp8285"},
        {"--fault", "sometimes"},
        {"--fault", "drop-after=lots"},
        {"--fault", "reject-auth"},  // without a password
        {"--stored-hash", "sha1"},
        {"--bind", "localhost"},
        {"--no-such-option"},
        {"--devices", "count=0"},
        {"--devices", "kind=esp9"},
        {"--devices", "password=hunter2"},
        {"--devices", "count=2,hostname=twin"},
        {"--devices", "count=2,bind=::1,port=0", "--spread", "address"},
        {"--count", "2", "--devices", "count=1"},
        {"--spread", "diagonal"},
        {"--mdns-port", "5999"},  // needs --mdns
        {"--mdns", "--mdns-interface", "eth0"},
    };
    process_options no_password;
    no_password.unset_env = {"OTAFLASH_DEVICE_PASSWORD"};
    for (const auto& args : cases) {
        auto r = device_run(args, no_password);
        EXPECT_EQ(r.exit_code, 2) << args.front() << " " << args.back() << ": " << r.err;
        EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("hint:"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
}

TEST(OtaDeviceCli, MissingPasswordFileIsAnInputError) {
    temp_dir dir;
    auto r = device_run({"--password-file", dir.file("absent")});
    EXPECT_EQ(r.exit_code, 4);
    EXPECT_NE(r.err.find("absent"), std::string::npos);
}

TEST(OtaDeviceCli, PortInUseIsALocalResourceError) {
    udp_peer taken;
    auto r = device_run({"--port", std::to_string(taken.port())});
    EXPECT_EQ(r.exit_code, 9);
    // Said as otaflash says it for its own ports (net::bind_failure), with the option to change.
    EXPECT_NE(r.err.find("error: UDP port 127.0.0.1:" + std::to_string(taken.port()) + " is already in use"),
              std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hint: choose another --port, or stop the program that holds it"), std::string::npos) << r.err;
}

TEST(OtaDeviceCli, ReadyLineAndCleanExitOnSigterm) {
    ota_device_process device({"--kind", "rp2040", "--port", "0"});
    EXPECT_EQ(device.ready()["event"], "ready");
    EXPECT_EQ(device.ready()["kind"], "rp2040");
    EXPECT_EQ(device.ready()["address"], "127.0.0.1");
    EXPECT_GT(device.port(), 0);
    auto r = device.stop();
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_FALSE(r.timed_out);
}

TEST(OtaDeviceCli, PasswordNeverAppearsInOutput) {
    process_options options;
    options.env["OTAFLASH_DEVICE_PASSWORD"] = "hunter2-secret";
    ota_device_process device({"--port", "0", "-vv"}, options);
    udp_peer host;
    refused_port refused;
    host.send_to(device.port(), invitation(0, refused.port(), 100, std::string(32, 'a')));
    ASSERT_TRUE(host.receive(ms(3000)));
    host.send_to(device.port(), "200 " + std::string(32, 'c') + " " + std::string(32, 'd') + "\n");
    ASSERT_TRUE(host.receive(ms(3000)));
    auto r = device.stop();
    EXPECT_EQ(r.out.find("hunter2"), std::string::npos);
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos);
}

}  // namespace

namespace {

// --count runs several devices in one process; every line names its device.
TEST(OtaDeviceCli, CountRunsSeveralDevicesThatEachAnswer) {
    ota_device_process fleet({"--kind", "esp32", "--port", "0", "--count", "3"});
    std::vector<std::uint16_t> ports{fleet.port()};
    EXPECT_EQ(fleet.ready()["device"], "127.0.0.1:" + std::to_string(fleet.port()));
    for (int i = 0; i < 2; ++i) {
        auto ready = fleet.next_event(ms(5000));
        ASSERT_TRUE(ready);
        EXPECT_EQ((*ready)["event"], "ready");
        ports.push_back((*ready)["port"].get<std::uint16_t>());
    }
    refused_port refused;
    for (auto port : ports) {
        udp_peer host;
        host.send_to(port, invitation(0, refused.port(), 100, std::string(32, 'a')));
        EXPECT_EQ(host.receive(ms(3000)), "OK") << port;
        auto e = fleet.wait_event("invitation", ms(3000));
        ASSERT_TRUE(e);
        EXPECT_EQ((*e)["device"], "127.0.0.1:" + std::to_string(port));
    }
}

}  // namespace
