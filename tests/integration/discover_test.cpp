// `otaflash discover` and `.local` resolution over real multicast on the loopback interface,
// against mdns_responder (the same responder the emulated devices run).

#include "subprocess.hpp"

#include <otaflash/net/mdns.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <thread>

using namespace otaflash;
using namespace otaflash::test;

namespace {

// A port of the test's own, so parallel tests and a real mDNS daemon never see each other.
std::uint16_t private_mdns_port() {
    std::random_device rd;
    return static_cast<std::uint16_t>(20000 + rd() % 30000);
}

mdns::advertisement device(const std::string& name, std::uint8_t octet, std::uint16_t port, const std::string& board,
                           bool password) {
    mdns::advertisement ad;
    ad.hostname = name;
    ad.port = port;
    ad.ipv4 = {{127, 0, 0, octet}};
    ad.txt = {"tcp_check=no", "ssh_upload=no", "board=" + board, std::string("auth_upload=") + (password ? "yes" : "no")};
    return ad;
}

class responders {
public:
    responders(std::vector<mdns::advertisement> ads, std::uint16_t port) {
        net::mdns_options o;
        o.port = port;
        o.interfaces = {"127.0.0.1"};
        responder_ = std::make_unique<net::mdns_responder>(io_, std::move(ads), o, null_log());
        auto started = responder_->start();
        if (!started) throw std::runtime_error(started.error().message);
        thread_ = std::thread([this] { io_.run(); });
    }
    ~responders() {
        boost::asio::post(io_, [this] { responder_.reset(); work_.reset(); });
        io_.stop();
        thread_.join();
    }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
    std::unique_ptr<net::mdns_responder> responder_;
    std::thread thread_;
};

process_result discover(std::uint16_t port, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{bin_path("otaflash"), "discover", "--json", "--interface", "127.0.0.1",
                                  "--mdns-port", std::to_string(port), "--timeout", "1200ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    process_options o;
    o.timeout = std::chrono::seconds(20);
    return run_process(args, o);
}

}  // namespace

TEST(Discover, FindsDevicesOverMulticast) {
    auto port = private_mdns_port();
    responders r({device("esp8266-0a1b2c", 21, 8266, "d1_mini", false), device("esp32-cafe", 22, 3232, "esp32dev", true)},
                 port);
    auto run = discover(port);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto doc = nlohmann::json::parse(run.out);
    auto devices = doc["result"]["devices"];
    ASSERT_EQ(devices.size(), 2u) << run.out;
    EXPECT_EQ(devices[0]["name"], "esp32-cafe");
    EXPECT_EQ(devices[0]["port"], 3232);
    EXPECT_EQ(devices[0]["board"], "esp32dev");
    EXPECT_EQ(devices[0]["auth_required"], true);
    EXPECT_EQ(devices[0]["addresses"][0], "127.0.0.22");
    EXPECT_EQ(devices[1]["name"], "esp8266-0a1b2c");
    EXPECT_EQ(devices[1]["auth_required"], false);
    EXPECT_EQ(devices[1]["host"], "esp8266-0a1b2c.local");
}

TEST(Discover, FilterSelectsByTxt) {
    auto port = private_mdns_port();
    responders r({device("a", 23, 8266, "d1_mini", false), device("b", 24, 8266, "nodemcuv2", false)}, port);
    auto run = discover(port, {"--filter", "board=nodemcuv2"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto devices = nlohmann::json::parse(run.out)["result"]["devices"];
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_EQ(devices[0]["name"], "b");
}

TEST(Discover, NobodyAnsweringIsAnEmptyListNotAnError) {
    auto run = discover(private_mdns_port());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(nlohmann::json::parse(run.out)["result"]["devices"].empty());
}

TEST(Discover, BadFilterIsAUsageError) {
    auto run = discover(private_mdns_port(), {"--filter", "board"});
    EXPECT_EQ(run.exit_code, 2);
}

TEST(ResolveLocalName, AnswersAndTimesOut) {
    auto port = private_mdns_port();
    responders r({device("esp-kitchen", 25, 8266, "d1_mini", false)}, port);
    net::mdns_options o;
    o.port = port;
    o.interfaces = {"127.0.0.1"};
    o.timeout = std::chrono::milliseconds(1500);
    auto found = net::resolve_local_name("esp-kitchen.local", o, null_log());
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(*found, std::vector<std::string>{"127.0.0.25"});

    o.timeout = std::chrono::milliseconds(400);
    auto missing = net::resolve_local_name("nobody.local", o, null_log());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::host_not_found);
    EXPECT_TRUE(net::is_local_name("ESP-A.Local"));
    EXPECT_FALSE(net::is_local_name("esp-a.lan"));
}
