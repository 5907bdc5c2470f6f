// `otaflash discover` and `.local` resolution over real multicast: against emulated fleets
// (otaflash-ota-device --mdns, a process of its own like real devices) on loopback with a private
// mDNS port per test, on the real port 5353 inside a network namespace the test makes (as root),
// and against an in-process mdns_responder for library-level checks.

#include "ota_host.hpp"

#include "fixtures.hpp"

#include <otaflash/net/mdns.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <array>
#include <cstdlib>
#include <csignal>
#include <cstring>
#include <tuple>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <set>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace otaflash;
using namespace otaflash::test;

namespace {

// Queries and answers on 127.0.0.1 only, on the test's own port.
net::mdns_options on_loopback(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    net::mdns_options o;
    o.port = port;
    o.interfaces = {"127.0.0.1"};
    o.timeout = timeout;
    return o;
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
        responder_ = std::make_unique<net::mdns_responder>(io_, std::move(ads), on_loopback(port), null_log());
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

process_result discover(std::uint16_t port, std::vector<std::string> extra = {}, const std::string& timeout = "1200ms") {
    std::vector<std::string> args{bin_path("otaflash"), "discover", "--json", "--interface", "127.0.0.1",
                                  "--mdns-port", std::to_string(port), "--timeout", timeout};
    args.insert(args.end(), extra.begin(), extra.end());
    process_options o;
    o.timeout = std::chrono::seconds(20);
    return run_process(args, o);
}

nlohmann::json found_devices(const process_result& run) {
    auto doc = nlohmann::json::parse(run.out);
    return doc.at("result").at("devices");
}

// `found` lists exactly the devices of the ready lines, each as the device advertises itself.
void expect_lists_exactly(const nlohmann::json& found, const std::vector<nlohmann::json>& ready,
                          const std::set<std::string>& with_password) {
    ASSERT_EQ(found.size(), ready.size()) << found.dump();
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& d : found) by_name[d.at("name")] = d;
    for (const auto& r : ready) {
        const std::string name = r.at("hostname");
        auto it = by_name.find(name);
        ASSERT_NE(it, by_name.end()) << name << " is missing from " << found.dump();
        const auto& d = it->second;
        EXPECT_EQ(d["host"], name + ".local");
        EXPECT_EQ(d["addresses"], nlohmann::json::array({r.at("address")})) << name;
        EXPECT_EQ(d["port"], r.at("port")) << name;
        EXPECT_EQ(d["board"], r.at("board")) << name;
        EXPECT_EQ(d["auth_required"], with_password.count(name) > 0) << name;
        EXPECT_EQ(d["txt"]["tcp_check"], "no") << name;
        EXPECT_EQ(d["txt"]["ssh_upload"], "no") << name;
        EXPECT_TRUE(d["resolved"].get<bool>()) << name;
    }
}

std::set<std::string> hostnames_of(const std::vector<nlohmann::json>& ready, const std::string& kind) {
    std::set<std::string> out;
    for (const auto& r : ready)
        if (r["kind"] == kind) out.insert(r["hostname"].get<std::string>());
    return out;
}

// Three esp8266 without a password, two esp32 with one (a custom board), an rp2040 that cannot take
// an update: each on its own loopback address.
const std::vector<std::string> mixed_fleet{
    "--spread", "address", "--port", "0",
    "--devices", "count=3,hostname=kitchen-%d",
    "--devices", "count=2,kind=esp32,board=esp32dev,password-env=OTAFLASH_TEST_DISCOVER_PW",
    "--devices", "kind=rp2040,fault=no-space"};

process_options fleet_password() {
    process_options o;
    o.env["OTAFLASH_TEST_DISCOVER_PW"] = "s3cret";
    o.unset_env = {"OTAFLASH_DEVICE_PASSWORD"};
    return o;
}

}  // namespace

TEST(Discover, ListsEveryEmulatedDeviceWithItsAddressPortBoardAndPassword) {
    const auto port = private_mdns_port();
    emulated_fleet fleet(port, mixed_fleet, fleet_password());
    ASSERT_EQ(fleet.ready().size(), 6u);
    std::set<std::string> addresses;
    for (const auto& r : fleet.ready()) addresses.insert(r["address"].get<std::string>());
    EXPECT_EQ(addresses.size(), 6u);  // one loopback address each
    EXPECT_EQ(fleet.ready()[5]["board"], "rpipicow");

    auto run = discover(port);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    expect_lists_exactly(found_devices(run), fleet.ready(), hostnames_of(fleet.ready(), "esp32"));
}

TEST(Discover, FilterSelectsTheMatchingEmulatedDevices) {
    const auto port = private_mdns_port();
    emulated_fleet fleet(port, mixed_fleet, fleet_password());
    std::vector<nlohmann::json> esp32, esp8266;
    for (const auto& r : fleet.ready()) {
        if (r["kind"] == "esp32") esp32.push_back(r);
        if (r["kind"] == "esp8266") esp8266.push_back(r);
    }
    ASSERT_EQ(esp32.size(), 2u);
    ASSERT_EQ(esp8266.size(), 3u);

    auto boards = discover(port, {"--filter", "board=esp32dev"});
    ASSERT_EQ(boards.exit_code, 0) << boards.err;
    expect_lists_exactly(found_devices(boards), esp32, hostnames_of(esp32, "esp32"));

    auto open = discover(port, {"--filter", "auth_upload=no,board=d1_mini"});
    ASSERT_EQ(open.exit_code, 0) << open.err;
    expect_lists_exactly(found_devices(open), esp8266, {});
}

TEST(Discover, AHundredEmulatedDevicesAllAnswer) {
    const auto port = private_mdns_port();
    emulated_fleet fleet(port, {"--spread", "address", "--port", "0",
                                "--devices", "count=90,hostname=line-%d",
                                "--devices", "count=10,kind=esp32,hostname=line-%d,fault=bad-md5"});
    ASSERT_EQ(fleet.ready().size(), 100u);
    EXPECT_EQ(fleet.ready()[99]["address"], "127.0.0.100");
    auto run = discover(port, {}, "2s");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    expect_lists_exactly(found_devices(run), fleet.ready(), {});
}

// Inside a network namespace of its own the test meets no other mDNS traffic, so it runs as a user
// would: the devices on their kinds' ports, the responder on 5353, discover with no options.
std::string on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (std::size_t at = 0; at <= dirs.size();) {
        const auto end = std::min(dirs.find(':', at), dirs.size());
        const std::string candidate = dirs.substr(at, end - at) + "/" + program;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        at = end + 1;
    }
    return {};
}

bool can_make_network_namespace() {
    if (::geteuid() != 0 || on_path("unshare").empty() || on_path("ip").empty()) return false;
    process_options o;
    o.timeout = std::chrono::seconds(10);
    return run_process({on_path("unshare"), "-n", "--", on_path("true")}, o).exit_code == 0;
}

constexpr const char* namespace_script = R"(ota=$1; otaflash=$2; out=$3; shift 3
ip link set lo up || exit 90
"$ota" --mdns "$@" > "$out/events" 2> "$out/errors" &
pid=$!
tries=0
until grep -q '"event":"mdns"' "$out/events" 2>/dev/null; do
  tries=$((tries + 1))
  if [ $tries -gt 200 ] || ! kill -0 $pid 2>/dev/null; then kill $pid 2>/dev/null; exit 91; fi
  sleep 0.05
done
"$otaflash" discover --json --timeout 1500ms
status=$?
kill $pid
wait $pid
exit $status
)";

TEST(Discover, FindsEmulatedDevicesOnTheRealMdnsPortInANetworkNamespace) {
    const std::vector<std::string> devices{"--spread", "address", "--devices", "count=2,hostname=ns-%d",
                                           "--devices", "kind=esp32,board=esp32dev,hostname=ns-%d"};
    if (!can_make_network_namespace()) {
        std::cout << "[   NOTE   ] not root, or unshare -n is not allowed: checking on the shared loopback with a "
                     "private mDNS port and ephemeral device ports instead of a network namespace\n";
        RecordProperty("network_namespace", "no");
        const auto port = private_mdns_port();
        auto args = devices;
        args.insert(args.end(), {"--port", "0"});
        emulated_fleet fleet(port, args);
        auto run = discover(port);
        ASSERT_EQ(run.exit_code, 0) << run.err;
        expect_lists_exactly(found_devices(run), fleet.ready(), {});
        return;
    }
    RecordProperty("network_namespace", "yes");
    temp_dir dir;
    std::vector<std::string> argv{on_path("unshare"), "-n", "--", on_path("sh"), "-c", namespace_script, "sh",
                                  bin_path("otaflash-ota-device"), bin_path("otaflash"), dir.path()};
    argv.insert(argv.end(), devices.begin(), devices.end());
    process_options o;
    o.timeout = std::chrono::seconds(40);
    auto run = run_process(argv, o);
    ASSERT_EQ(run.exit_code, 0) << run.err << "\nemulator: " << std::string(as_text(slurp(dir.file("errors"))));

    std::vector<nlohmann::json> ready;
    const std::string events(as_text(slurp(dir.file("events"))));
    for (std::size_t at = 0; at < events.size();) {
        const auto end = events.find('\n', at);
        auto line = nlohmann::json::parse(events.substr(at, end - at));
        if (line["event"] == "ready") ready.push_back(line);
        if (line["event"] == "mdns") {
            EXPECT_EQ(line["port"], 5353);
        }
        at = end == std::string::npos ? events.size() : end + 1;
    }
    ASSERT_EQ(ready.size(), 3u) << events;
    // The defaults really were used: the kinds' own ports, one address each.
    EXPECT_EQ(ready[0]["address"], "127.0.0.1");
    EXPECT_EQ(ready[0]["port"], 8266);
    EXPECT_EQ(ready[2]["address"], "127.0.0.3");
    EXPECT_EQ(ready[2]["port"], 3232);
    expect_lists_exactly(found_devices(run), ready, {});
}

TEST(ResolveLocalName, ReachesAnEmulatedDeviceByItsName) {
    const auto port = private_mdns_port();
    emulated_fleet fleet(port, {"--spread", "address", "--port", "0", "--time-scale", "0.1", "--count", "3",
                                "--hostname", "bench-%d"});
    auto o = on_loopback(port);
    auto addresses = net::resolve_local_name("bench-2.local", o, null_log());
    ASSERT_TRUE(addresses) << addresses.error().message;
    const auto& target = fleet.named("bench-2");
    ASSERT_EQ(*addresses, std::vector<std::string>{target.at("address").get<std::string>()});

    // The OTA port comes from the service record, as a host that only knows the name finds it.
    o.timeout = std::chrono::milliseconds(1200);
    auto services = net::browse(mdns::arduino_service, o, null_log());
    ASSERT_TRUE(services) << services.error().message;
    std::uint16_t ota_port = 0;
    for (const auto& s : *services)
        if (s.host == "bench-2.local") ota_port = s.port;
    ASSERT_EQ(ota_port, target.at("port").get<std::uint16_t>());

    udp_peer host;
    refused_port refused;
    host.send_to(addresses->front(), ota_port, invitation(0, refused.port(), 100, std::string(32, 'a')));
    EXPECT_EQ(host.receive(ms(3000)), "OK");
    auto invited = fleet.process().wait_event("invitation", ms(3000));
    ASSERT_TRUE(invited);
    EXPECT_EQ((*invited)["hostname"], "bench-2");
}

// The factory flow until push resolves names itself: list the devices, push to the address and
// port that discover reports for one of them, and that device (only) gets the image.
TEST(Discover, WhatItListsIsWherePushDeliversTheImage) {
    const auto port = private_mdns_port();
    temp_dir dir;
    const auto image_path = fixture_image("esp8266_deepsleep.bin");
    const bytes image = slurp(image_path);
    emulated_fleet fleet(port, {"--spread", "address", "--port", "0", "--time-scale", "0.25", "--count", "3",
                                "--hostname", "cell-%d", "--out", dir.file("got-%d.bin")});
    auto run = discover(port);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::string target;
    for (const auto& d : found_devices(run))
        if (d["name"] == "cell-1") target = d["addresses"][0].get<std::string>() + ":" + std::to_string(d["port"].get<int>());
    ASSERT_FALSE(target.empty()) << run.out;
    EXPECT_EQ(target.substr(0, target.find(':')), fleet.named("cell-1")["address"]);

    process_options o;
    o.timeout = std::chrono::seconds(40);
    o.env["CI"] = "true";
    o.unset_env = {"OTAFLASH_PASSWORD"};
    auto push = run_process({bin_path("otaflash"), "--json", "push", image_path, target}, o);
    ASSERT_EQ(push.exit_code, 0) << push.out << push.err;
    auto update = fleet.process().wait_event("update", ms(10000));
    ASSERT_TRUE(update);
    EXPECT_EQ((*update)["hostname"], "cell-1");
    EXPECT_TRUE((*update)["ok"].get<bool>()) << update->dump();
    EXPECT_EQ(slurp(dir.file("got-1.bin")), image);
    EXPECT_FALSE(fleet.process().next_event(ms(200)));  // nobody else was updated
}

TEST(Discover, NobodyAnsweringIsAnEmptyListNotAnError) {
    auto run = discover(private_mdns_port());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(nlohmann::json::parse(run.out)["result"]["devices"].empty());
}

// The one interrupt rule: SIGINT ends discover with 130, SIGTERM with 143, and under --json with
// one document all the same (it used to exit 0 with SIGINT ignored, and die without a document).
TEST(Discover, SignalsEndItWith130Or143AndOneJsonDocument) {
    for (const auto& [signal_number, code, name] :
         std::vector<std::tuple<int, int, std::string>>{{SIGINT, 130, "interrupted_sigint"}, {SIGTERM, 143, "interrupted_sigterm"}}) {
        SCOPED_TRACE(name);
        background_process run({bin_path("otaflash"), "--json", "discover", "--interface", "127.0.0.1", "--mdns-port",
                                std::to_string(private_mdns_port()), "--timeout", "20s"});
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const auto signalled = std::chrono::steady_clock::now();
        ::kill(run.pid(), signal_number);
        while (run.running() && std::chrono::steady_clock::now() - signalled < std::chrono::seconds(5))
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        auto r = run.stop();
        EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(3));
        ASSERT_EQ(r.exit_code, code) << "signal " << r.signal << ": " << r.err;
        auto doc = nlohmann::json::parse(r.out, nullptr, false);
        ASSERT_TRUE(doc.is_object()) << r.out;
        EXPECT_EQ(doc["command"], "discover");
        EXPECT_EQ(doc["exit_code"], code);
        EXPECT_EQ(doc["error"]["code"], name);
        EXPECT_EQ(doc["error"]["condition"], "interrupted");
    }
}

TEST(Discover, BadFilterIsAUsageError) {
    auto run = discover(private_mdns_port(), {"--filter", "board"});
    EXPECT_EQ(run.exit_code, 2);
}

TEST(ResolveLocalName, AnswersAndTimesOut) {
    auto port = private_mdns_port();
    responders r({device("esp-kitchen", 25, 8266, "d1_mini", false)}, port);
    auto o = on_loopback(port, std::chrono::milliseconds(1500));
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

// A one-shot resolver (dig, nss-mdns in some setups) asks from a port other than 5353 and expects a
// unicast answer that repeats its id and question.
TEST(MdnsResponder, AnswersAOneShotQuerierByUnicast) {
    auto port = private_mdns_port();
    responders r({device("esp-legacy", 26, 8266, "d1_mini", false)}, port);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
    in_addr itf{};
    itf.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &itf, sizeof itf), 0);

    auto query = mdns::address_query("esp-legacy.local");
    query.id = 0x2a2a;
    const bytes wire = mdns::encode(query);
    sockaddr_in group{};
    group.sin_family = AF_INET;
    group.sin_port = htons(port);
    ::inet_pton(AF_INET, mdns::ipv4_group, &group.sin_addr);
    std::optional<mdns::message> reply;
    // Multicast is best effort: ask up to three times.
    for (int attempt = 0; attempt < 3 && !reply; ++attempt) {
        ASSERT_EQ(::sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&group), sizeof group),
                  static_cast<ssize_t>(wire.size()));
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) continue;
        std::array<std::uint8_t, 9000> buffer{};
        const auto n = ::recv(fd, buffer.data(), buffer.size(), 0);
        ASSERT_GT(n, 0);
        auto decoded = mdns::decode(byte_view(buffer.data(), static_cast<std::size_t>(n)));
        ASSERT_TRUE(decoded) << decoded.error().message;
        reply = *decoded;
    }
    ::close(fd);
    ASSERT_TRUE(reply) << "no unicast answer";
    EXPECT_EQ(reply->id, 0x2a2a);
    ASSERT_FALSE(reply->questions.empty());
    EXPECT_EQ(reply->questions[0].name, "esp-legacy.local");
    ASSERT_EQ(reply->answers.size(), 1u);
    EXPECT_FALSE(reply->answers[0].cache_flush);
    EXPECT_LE(reply->answers[0].ttl, 10u);
    EXPECT_EQ(mdns::address_text(reply->answers[0]), "127.0.0.26");
}

// A name that resolves to several addresses (a device on two networks, stale records) is tried at
// each in turn until one answers, and the result says which did.
class SeveralAddresses : public ::testing::Test {
protected:
    void SetUp() override {
        std::random_device rd;
        prefix_ = "127." + std::to_string(100 + rd() % 150) + "." + std::to_string(rd() % 256) + ".";
        device_ = std::make_unique<ota_device_process>(std::vector<std::string>{
            "--bind", live(), "--port", "0", "--time-scale", "0.25", "--out", dir_.file("got.bin")});
    }

    std::string address(int last) const { return prefix_ + std::to_string(last); }
    std::string live() const { return address(3); }

    // multi.local advertised with `addresses` (octets after the prefix), on the device's port.
    std::unique_ptr<responders> advertise(const std::vector<int>& addresses) {
        mdns::advertisement ad = device("multi", 0, device_->port(), "d1_mini", false);
        ad.ipv4.clear();
        for (int last : addresses) {
            in_addr a{};
            ::inet_pton(AF_INET, address(last).c_str(), &a);
            std::array<std::uint8_t, 4> octets{};
            std::memcpy(octets.data(), &a, octets.size());
            ad.ipv4.push_back(octets);
        }
        return std::make_unique<responders>(std::vector<mdns::advertisement>{ad}, mdns_port_);
    }

    process_result push(bool json) {
        std::vector<std::string> args{bin_path("otaflash"), "push", "--progress", "none", "--mdns-port",
                                      std::to_string(mdns_port_), "--interface", "127.0.0.1", "--mdns-timeout",
                                      "1500ms", "--invite-timeout", "300ms", "--invite-retries", "1", image_,
                                      "multi.local:" + std::to_string(device_->port())};
        if (json) args.insert(args.begin() + 1, "--json");
        process_options o;
        o.timeout = std::chrono::seconds(40);
        o.env["CI"] = "true";
        o.unset_env = {"OTAFLASH_PASSWORD"};
        return run_process(args, o);
    }

    temp_dir dir_;
    const std::uint16_t mdns_port_ = private_mdns_port();
    const std::string image_ = fixture_image("helloworld-esp32.bin");
    std::string prefix_;
    std::unique_ptr<ota_device_process> device_;
};

TEST_F(SeveralAddresses, EachIsTriedUntilOneAnswersAndTheResultSaysWhich) {
    auto names = advertise({1, 2, 3});
    auto run = push(true);
    ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
    auto doc = nlohmann::json::parse(run.out);
    EXPECT_EQ(doc["result"]["address"], live());
    auto listed = doc["result"]["addresses"].get<std::vector<std::string>>();
    EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()),
              (std::set<std::string>{address(1), address(2), address(3)}));
    EXPECT_EQ(listed.back(), live()) << "the dead addresses were tried first";
    EXPECT_EQ(doc["result"]["attempts"], nullptr) << "other addresses are one attempt, not retries";
    ASSERT_TRUE(device_->wait_event("update", ms(10000)));
    EXPECT_EQ(slurp(dir_.file("got.bin")), slurp(image_));

    auto text = push(false);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find(live() + ":" + std::to_string(device_->port()) + " (address 3 of 3 of multi.local)"),
              std::string::npos)
        << text.out;
}

TEST_F(SeveralAddresses, WhenNoneAnswersTheErrorNamesThemAll) {
    auto names = advertise({1, 2});
    auto run = push(true);
    EXPECT_EQ(run.exit_code, 5) << run.out << run.err;
    auto doc = nlohmann::json::parse(run.out);
    const std::string message = doc["error"]["message"];
    EXPECT_NE(message.find("no address of multi.local answered (tried "), std::string::npos) << message;
    EXPECT_NE(message.find(address(1)), std::string::npos) << message;
    EXPECT_NE(message.find(address(2)), std::string::npos) << message;
}
