// otaflash push to fleets of emulated devices, every fleet one otaflash-ota-device process on
// private loopback addresses: all good, a mix of faults (each reported with its class), one fixed
// host port, --jobs, --retries, --fail-fast, targets files with per-device passwords, one device
// listed twice, devices sharing an address (at once, each with its own host port; in turn on one fixed port),
// name.local and --discover over real multicast on a private mDNS port, and SIGTERM in the middle of a fleet.

#include "push_harness.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace otaflash;
using namespace otaflash::test;

namespace {

const std::string big_image = fixture_image("esp8266_deepsleep.bin");
const std::string small_image = fixture_image("helloworld-esp32.bin");

push_call fleet_call(const std::string& image, const std::vector<std::string>& targets, std::vector<std::string> extra = {}) {
    push_call c;
    c.args = fast_timeouts();
    c.args.insert(c.args.end(), {"--progress", "none"});
    c.args.insert(c.args.end(), extra.begin(), extra.end());
    c.args.push_back(image);
    c.args.insert(c.args.end(), targets.begin(), targets.end());
    return c;
}

std::vector<std::string> targets_of(const emulated_fleet& fleet) {
    std::vector<std::string> out;
    for (const auto& m : fleet.members()) out.push_back(m.target());
    return out;
}

// The JSON entry of the device labelled `label`.
const nlohmann::json& entry(const push_result& r, const std::string& label) {
    for (const auto& d : r.doc["result"]["devices"])
        if (d["label"] == label) return d;
    static const nlohmann::json none;
    ADD_FAILURE() << "no device labelled " << label << " in " << r.proc.out;
    return none;
}

std::string error_code(const nlohmann::json& device) {
    return device["error"].is_object() ? device["error"]["code"].get<std::string>() : "";
}

std::uint16_t free_tcp_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// `count` consecutive TCP ports that are free on every address right now.
std::uint16_t free_tcp_port_range(unsigned count) {
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
        const auto first = static_cast<std::uint16_t>(30000 + rd() % 25000);
        std::vector<int> held;
        bool all = true;
        for (unsigned i = 0; i < count && all; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_ANY);
            a.sin_port = htons(static_cast<std::uint16_t>(first + i));
            all = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            held.push_back(fd);
        }
        for (int fd : held) ::close(fd);
        if (all) return first;
    }
    throw std::runtime_error("no free range of TCP ports");
}

// A UDP port for the test's own mDNS group: no real responder, no other test, meets it.
std::uint16_t private_mdns_port() {
    std::random_device rd;
    return static_cast<std::uint16_t>(20000 + rd() % 30000);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct interval {
    long long start;
    long long end;
};

std::vector<interval> intervals(const push_result& r) {
    std::vector<interval> out;
    for (const auto& d : r.doc["result"]["devices"]) out.push_back({d["start_ms"], d["end_ms"]});
    std::sort(out.begin(), out.end(), [](const interval& a, const interval& b) { return a.start < b.start; });
    return out;
}

}  // namespace

TEST(PushFleet, MixedGoodFleetFromOneProcessGetsByteIdenticalImages) {
    temp_dir dir;
    emulated_fleet fleet({"--devices", "count=2", "--devices", "count=2,kind=esp32", "--devices", "kind=esp32-legacy",
                          "--devices", "kind=rp2040"},
                         6, dir);
    auto r = run_otaflash(fleet_call(big_image, targets_of(fleet), {"--jobs", "8"}));
    expect_consistent(r);
    ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
    const auto& devices = r.doc["result"]["devices"];
    ASSERT_EQ(devices.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) {
        SCOPED_TRACE(fleet[i].kind);
        EXPECT_EQ(devices[i]["label"], fleet[i].target());
        EXPECT_EQ(devices[i]["status"], "updated");
        EXPECT_EQ(devices[i]["result"], "confirmed");
        EXPECT_EQ(devices[i]["address"], fleet[i].address);
        EXPECT_EQ(devices[i]["bytes_sent"], slurp(big_image).size());
        EXPECT_EQ(devices[i]["attempts"], 1);
        EXPECT_TRUE(devices[i]["error"].is_null());
    }
    fleet.expect_received({0, 1, 2, 3, 4, 5}, big_image);
    EXPECT_EQ(r.doc["result"]["totals"]["updated"], 6);
    EXPECT_EQ(r.doc["result"]["totals"]["bytes_sent"], 6 * slurp(big_image).size());
    EXPECT_EQ(r.doc["result"]["image"]["size"], slurp(big_image).size());
}

TEST(PushFleet, FaultyDevicesAreEachReportedWithTheirClassAndTheRunExits12) {
    temp_dir dir;
    process_options po;
    po.env["FLEET_REJECT_PW"] = device_password;
    emulated_fleet fleet({"--devices", "count=2", "--devices", "fault=no-space", "--devices", "fault=silent",
                          "--devices", "password-env=FLEET_REJECT_PW,fault=reject-auth", "--devices",
                          "fault=drop-after=20000", "--devices", "fault=bad-md5", "--devices",
                          "kind=esp32,fault=no-space"},
                         8, dir, po);
    const std::vector<std::pair<std::string, int>> want{{"", 0},
                                                        {"", 0},
                                                        {"device_refused", 11},
                                                        {"invite_no_reply", 5},
                                                        {"auth_failed", 6},
                                                        {"connection_lost", 7},
                                                        {"device_verify_failed", 8},
                                                        {"accept_timeout", 5}};
    auto call = fleet_call(big_image, targets_of(fleet));
    call.password_env = device_password;
    auto r = run_otaflash(call);
    expect_consistent(r);
    EXPECT_EQ(r.proc.exit_code, 12) << r.proc.out << r.proc.err;
    EXPECT_EQ(r.code(), "some_targets_failed");
    for (std::size_t i = 0; i < want.size(); ++i) {
        const auto& d = entry(r, fleet[i].target());
        EXPECT_EQ(error_code(d), want[i].first) << fleet[i].target();
        EXPECT_EQ(d["exit_code"], want[i].second) << fleet[i].target();
        EXPECT_EQ(d["status"], want[i].second == 0 ? "updated" : "failed") << fleet[i].target();
        EXPECT_TRUE(contains(r.message(), fleet[i].target()) == (want[i].second != 0)) << r.message();
    }
    fleet.expect_received({0, 1}, big_image);
    EXPECT_EQ(r.doc["result"]["totals"]["failed"], 6);
    EXPECT_EQ(r.doc["result"]["totals"]["failed_by_class"]["unreachable"], 2);
    EXPECT_FALSE(contains(r.proc.out + r.proc.err, device_password)) << "the password leaked";

    // The same in text: one line per device as it ends, then the table.
    call.json = false;
    auto text = run_otaflash(call);
    EXPECT_EQ(text.proc.exit_code, 12) << text.proc.err;
    const std::string& out = text.proc.out;
    ASSERT_TRUE(contains(out, "DEVICE")) << out;
    const std::string table = out.substr(out.find("DEVICE"));
    for (std::size_t i = 0; i < want.size(); ++i) {
        auto row_at = table.find("\n" + fleet[i].target() + " ");
        ASSERT_NE(row_at, std::string::npos) << table;
        const std::string row = table.substr(row_at + 1, table.find('\n', row_at + 1) - row_at - 1);
        if (want[i].second == 0) {
            EXPECT_TRUE(contains(row, " updated ")) << row;
        } else {
            EXPECT_TRUE(contains(row, " failed ")) << row;
            EXPECT_TRUE(contains(row, "(" + std::to_string(want[i].second) + ")")) << row;
        }
    }
    EXPECT_TRUE(contains(table, "Not Enough Space")) << "the device's own words: " << table;
    EXPECT_TRUE(contains(out, "8 devices: 2 updated, 6 failed")) << out;
    EXPECT_TRUE(contains(text.proc.err, "error: 6 of 8 devices were not updated")) << text.proc.err;
}

TEST(PushFleet, OneFixedHostPortServesTheWholeFleet) {
    temp_dir dir;
    emulated_fleet fleet({"--devices", "count=3", "--devices", "count=2,kind=esp32"}, 5, dir);
    const std::uint16_t port = free_tcp_port();
    auto r = run_otaflash(fleet_call(small_image, targets_of(fleet), {"--host-port", std::to_string(port)}));
    expect_consistent(r);
    ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
    for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(r.doc["result"]["devices"][i]["host_port"], port);
    fleet.expect_received({0, 1, 2, 3, 4}, small_image);
    std::size_t invitations = 0;
    for (const auto& e : fleet.events())
        if (e["event"] == "invitation") {
            ++invitations;
            EXPECT_EQ(e["port"], port) << "every device was told the one fixed port";
        }
    EXPECT_EQ(invitations, 5u);
}

TEST(PushFleet, JobsBoundHowManyDevicesRunAtOnce) {
    temp_dir dir;
    // ~0.6 s per device: the flash writes at 500 kB/s.
    emulated_fleet fleet({"--devices", "count=4,flash-rate=500000"}, 4, dir);
    auto one = run_otaflash(fleet_call(big_image, targets_of(fleet), {"--jobs", "1"}));
    expect_consistent(one);
    ASSERT_EQ(one.proc.exit_code, 0) << one.proc.err;
    auto serial = intervals(one);
    for (std::size_t i = 1; i < serial.size(); ++i)
        EXPECT_GE(serial[i].start, serial[i - 1].end) << "--jobs 1 ran two devices at once";

    auto eight = run_otaflash(fleet_call(big_image, targets_of(fleet), {"--jobs", "8"}));
    expect_consistent(eight);
    ASSERT_EQ(eight.proc.exit_code, 0) << eight.proc.err;
    auto parallel = intervals(eight);
    long long first_end = parallel.front().end;
    for (const auto& i : parallel) first_end = std::min(first_end, i.end);
    EXPECT_LT(parallel.back().start, first_end) << "--jobs 8 did not start all four at once";
    EXPECT_LT(eight.doc["result"]["totals"]["duration_ms"].get<long long>() * 2,
              one.doc["result"]["totals"]["duration_ms"].get<long long>());
    fleet.expect_received({0, 1, 2, 3}, big_image);
}

TEST(PushFleet, RetriesGetPastADeviceThatWasNotUpYet) {
    temp_dir dir;
    const std::string address = private_loopback_base();
    std::optional<emulated_device> device;
    std::thread boot([&] {
        std::this_thread::sleep_for(1500ms);  // the first attempt (0.9 s of invitations) is over by then
        device_options o;
        o.bind = address;
        o.port = "8266";
        device.emplace(o, dir);
    });
    push_call call;
    call.args = {"--progress", "none", "--invite-timeout", "300ms", "--invite-retries", "1", "--accept-timeout", "2s",
                 "--retries", "6", "--retry-delay", "400ms", "--targets",
                 dir.write("one.txt", address + ":8266 label=late\n"), small_image};
    auto r = run_otaflash(call);
    boot.join();
    expect_consistent(r);
    ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
    const auto& d = entry(r, "late");
    EXPECT_GE(d["attempts"].get<int>(), 2);
    ASSERT_FALSE(d["earlier_errors"].empty());
    EXPECT_EQ(d["earlier_errors"][0], "invite_no_reply");
    ASSERT_TRUE(device);
    expect_received_identical(*device, small_image);
}

TEST(PushFleet, OnlyFailuresThatMayPassAreRetried) {
    temp_dir dir;
    process_options po;
    po.env["FLEET_REJECT_PW"] = device_password;
    emulated_fleet fleet({"--devices", "password-env=FLEET_REJECT_PW,fault=reject-auth", "--devices", "fault=no-space",
                          "--devices", "fault=drop-after=20000"},
                         3, dir, po);
    auto call = fleet_call(big_image, targets_of(fleet), {"--retries", "2", "--retry-delay", "100ms"});
    call.password_env = device_password;
    auto r = run_otaflash(call);
    expect_consistent(r);
    EXPECT_EQ(r.proc.exit_code, 12) << r.proc.err;
    const auto& auth = entry(r, fleet[0].target());
    const auto& refused = entry(r, fleet[1].target());
    const auto& dropped = entry(r, fleet[2].target());
    EXPECT_EQ(error_code(auth), "auth_failed");
    EXPECT_EQ(auth["attempts"], 1) << "a wrong password stays wrong";
    EXPECT_EQ(error_code(refused), "device_refused");
    EXPECT_EQ(refused["attempts"], 1) << "a device without space stays without";
    EXPECT_EQ(error_code(dropped), "connection_lost");
    EXPECT_EQ(dropped["attempts"], 3);
    EXPECT_EQ(dropped["earlier_errors"], nlohmann::json::parse(R"(["connection_lost", "connection_lost"])"));
    EXPECT_EQ(fleet.count("invitation", fleet[0]), 1u);
    EXPECT_EQ(fleet.count("invitation", fleet[1]), 1u);
    EXPECT_EQ(fleet.count("invitation", fleet[2]), 3u);
}

TEST(PushFleet, FailFastCancelsTheRunningAndStartsNoMore) {
    temp_dir dir;
    process_options po;
    po.env["FLEET_REJECT_PW"] = device_password;
    // The first device takes six seconds (50 kB/s); the second fails its password at once.
    emulated_fleet fleet({"--devices", "flash-rate=50000", "--devices", "password-env=FLEET_REJECT_PW,fault=reject-auth",
                          "--devices", "count=2"},
                         4, dir, po);
    auto call = fleet_call(big_image, targets_of(fleet), {"--jobs", "2", "--fail-fast"});
    call.password_env = device_password;
    const auto started = std::chrono::steady_clock::now();
    auto r = run_otaflash(call);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 4s) << "the slow device was not cancelled";
    expect_consistent(r);
    EXPECT_EQ(r.proc.exit_code, 6) << "nothing was updated and the one failure was authentication\n" << r.proc.err;
    EXPECT_EQ(r.code(), "auth_failed");
    EXPECT_EQ(entry(r, fleet[0].target())["status"], "cancelled");
    EXPECT_EQ(error_code(entry(r, fleet[0].target())), "cancelled_fail_fast");
    EXPECT_EQ(entry(r, fleet[1].target())["status"], "failed");
    for (std::size_t i : {2u, 3u}) {
        EXPECT_EQ(entry(r, fleet[i].target())["status"], "skipped");
        EXPECT_EQ(fleet.count("invitation", fleet[i]), 0u) << "a device was started after the failure";
    }
    auto update = fleet.update_of(fleet[0], 5s);
    ASSERT_TRUE(update) << "the slow device reported no end of its update";
    EXPECT_FALSE((*update)["ok"].get<bool>()) << "the cancelled device must not take the image: " << update->dump();
}

TEST(PushFleet, TargetsFilesGiveEachDeviceItsOwnPassword) {
    temp_dir dir;
    process_options po;
    po.env["FLEET_PW_A"] = "alpha pass";
    po.env["FLEET_PW_B"] = "beta pass";
    emulated_fleet fleet({"--devices", "count=2,password-env=FLEET_PW_A", "--devices", "kind=esp32,password-env=FLEET_PW_B",
                          "--devices", "count=1"},
                         4, dir, po);
    const auto b_file = dir.write("b.pw", std::string("beta pass\n"));
    const auto text = dir.write("fleet.txt", "# two with A, one with B, one open\n" + fleet[0].target() +
                                                 " label=a0 password_env=OTA_A board=d1_mini\n" + fleet[1].target() +
                                                 "  label=a1  password_env=OTA_A\n" + fleet[2].target() +
                                                 " label=b password_file=" + b_file + " chip=esp32\n" + fleet[3].target() +
                                                 " label=open\n");
    const auto inventory = dir.write(
        "fleet.json", nlohmann::json{{"devices",
                                      {{{"host", fleet[0].address}, {"port", fleet[0].port}, {"label", "a0"}, {"password_env", "OTA_A"}},
                                       {{"host", fleet[1].address}, {"port", fleet[1].port}, {"label", "a1"}, {"password_env", "OTA_A"}},
                                       {{"host", fleet[2].address}, {"port", fleet[2].port}, {"label", "b"}, {"password_file", b_file}},
                                       {{"host", fleet[3].address}, {"port", fleet[3].port}, {"label", "open"}}}}}
                          .dump());
    // board= makes push ask mDNS what each device advertises: here nobody answers, on loopback only.
    const std::vector<std::string> quiet_mdns{"--mdns-port", std::to_string(private_mdns_port()), "--interface",
                                              "127.0.0.1", "--mdns-timeout", "300ms"};
    for (const auto& file : {text, inventory}) {
        SCOPED_TRACE(file);
        auto call = fleet_call(small_image, {}, {"--targets", file});
        call.args.insert(call.args.begin(), quiet_mdns.begin(), quiet_mdns.end());
        call.env["OTA_A"] = "alpha pass";
        call.password_env = "not the password";  // the fallback: no device here takes it
        auto r = run_otaflash(call);
        expect_consistent(r);
        ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
        EXPECT_EQ(entry(r, "a0")["auth"]["password_source"], "targets-password_env");
        EXPECT_EQ(entry(r, "a1")["auth"]["password_source"], "targets-password_env");
        EXPECT_EQ(entry(r, "b")["auth"]["password_source"], "targets-password_file");
        EXPECT_EQ(entry(r, "b")["auth"]["scheme"], "pbkdf2-sha256");
        EXPECT_TRUE(entry(r, "open")["auth"].is_null());
        fleet.expect_received({0, 1, 2, 3}, small_image);
        for (const char* secret : {"alpha pass", "beta pass", "not the password"})
            EXPECT_FALSE(contains(r.proc.out + r.proc.err, secret)) << secret << " leaked";
    }
    auto with_board = fleet_call(small_image, {}, {"--targets", text});
    with_board.args.insert(with_board.args.begin(), quiet_mdns.begin(), quiet_mdns.end());
    with_board.env["OTA_A"] = "alpha pass";
    auto boards = run_otaflash(with_board);
    EXPECT_EQ(entry(boards, "a0")["board"], "d1_mini") << "what the file says of a device is in its JSON";
    EXPECT_TRUE(contains(boards.doc["warnings"].dump(), "a0: board=d1_mini not checked")) << boards.proc.out;

    // An unset password_env stops the run before any device hears of it.
    const std::size_t invitations_before = fleet.count("invitation", fleet[0]);
    auto unset = run_otaflash(fleet_call(small_image, {}, {"--targets", text}));
    expect_consistent(unset);
    EXPECT_EQ(unset.proc.exit_code, 3) << unset.proc.err;
    EXPECT_TRUE(contains(unset.message(), "fleet.txt:2")) << unset.message();
    EXPECT_TRUE(contains(unset.message(), "OTA_A")) << unset.message();
    EXPECT_EQ(fleet.count("invitation", fleet[0]), invitations_before);
}

TEST(PushFleet, OneDeviceListedTwiceIsRefusedBeforeAnythingIsSent) {
    temp_dir dir;
    emulated_fleet fleet({"--devices", "count=2"}, 2, dir);
    // The same device by address:port and by bare address (whose default ports include 8266).
    auto r = run_otaflash(fleet_call(small_image, {fleet[0].target(), fleet[1].target(), fleet[0].address}));
    expect_consistent(r);
    EXPECT_EQ(r.proc.exit_code, 4) << r.proc.err;
    EXPECT_EQ(r.code(), "target_invalid");
    EXPECT_TRUE(contains(r.message(), "'" + fleet[0].target() + "' and '" + fleet[0].address + "'")) << r.message();
    EXPECT_EQ(fleet.count("invitation", fleet[0]) + fleet.count("invitation", fleet[1]), 0u);
}

// Whether every session had started before the first one ended: they all ran at once.
bool all_at_once(const std::vector<interval>& sessions) {
    long long first_end = sessions.front().end;
    for (const auto& i : sessions) first_end = std::min(first_end, i.end);
    return sessions.back().start < first_end;
}

// The largest number of sessions that ran at the same moment.
std::size_t most_at_once(const std::vector<interval>& sessions) {
    std::size_t most = 0;
    for (const auto& s : sessions) {
        std::size_t now = 0;
        for (const auto& t : sessions) now += t.start <= s.start && s.start < t.end;
        most = std::max(most, now);
    }
    return most;
}

std::set<int> host_ports(const push_result& r) {
    std::set<int> out;
    for (const auto& d : r.doc["result"]["devices"]) out.insert(d["host_port"].get<int>());
    return out;
}

TEST(PushFleet, DevicesSharingAnAddressRunAtOnceEachWithItsOwnHostPort) {
    temp_dir dir;
    // ~0.6 s per device: the flash writes at 500 kB/s.
    emulated_fleet fleet({"--devices", "count=4,flash-rate=500000"}, 4, dir, {}, "port");
    ASSERT_EQ(fleet[0].address, fleet[3].address);
    auto r = run_otaflash(fleet_call(big_image, targets_of(fleet), {"--jobs", "4"}));
    expect_consistent(r);
    ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
    EXPECT_TRUE(all_at_once(intervals(r))) << "devices at one address took turns: " << r.proc.out;
    EXPECT_EQ(host_ports(r).size(), 4u) << "each session at the shared address has its own listener";
    fleet.expect_received({0, 1, 2, 3}, big_image);
}

// The three devices of `fleet` (at one address) pushed with --host-port a free range of `ports`.
struct range_run {
    std::set<int> range;
    push_result r;
};
range_run push_with_port_range(const emulated_fleet& fleet, unsigned ports, const std::string& jobs) {
    const std::uint16_t first = free_tcp_port_range(ports);
    range_run out;
    for (unsigned i = 0; i < ports; ++i) out.range.insert(first + static_cast<int>(i));
    const std::string range = std::to_string(first) + "-" + std::to_string(first + ports - 1);
    out.r = run_otaflash(fleet_call(big_image, targets_of(fleet), {"--jobs", jobs, "--host-port", range}));
    expect_consistent(out.r);
    return out;
}

TEST(PushFleet, AHostPortRangeGivesEachSharedAddressSessionAPortFromIt) {
    temp_dir dir;
    emulated_fleet fleet({"--devices", "count=3,flash-rate=500000"}, 3, dir, {}, "port");
    auto [range, r] = push_with_port_range(fleet, 3, "3");
    ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
    EXPECT_TRUE(all_at_once(intervals(r))) << r.proc.out;
    EXPECT_EQ(host_ports(r), range);
    std::set<int> told;
    for (const auto& e : fleet.events())
        if (e["event"] == "invitation") told.insert(e["port"].get<int>());
    EXPECT_EQ(told, range) << "the devices were told the ports of the range";
    fleet.expect_received({0, 1, 2}, big_image);
}

TEST(PushFleet, ARangeTooSmallForTheDevicesAtOneAddressRunsAsManyAsItHasPorts) {
    temp_dir dir;
    emulated_fleet fleet({"--devices", "count=3,flash-rate=500000"}, 3, dir, {}, "port");
    auto [range, r] = push_with_port_range(fleet, 2, "8");
    ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
    EXPECT_EQ(most_at_once(intervals(r)), 2u) << r.proc.out;
    EXPECT_EQ(host_ports(r), range);
    EXPECT_TRUE(contains(r.proc.err, "3 devices share the address " + fleet[0].address)) << r.proc.err;
    EXPECT_TRUE(contains(r.proc.err, "2 at a time")) << r.proc.err;
    fleet.expect_received({0, 1, 2}, big_image);
}

TEST(PushFleet, OneFixedHostPortServesDevicesSharingAnAddressInTurn) {
    temp_dir dir;
    emulated_fleet fleet({"--devices", "count=3"}, 3, dir, {}, "port");
    ASSERT_EQ(fleet[0].address, fleet[2].address);
    const std::uint16_t port = free_tcp_port();
    auto r = run_otaflash(fleet_call(big_image, targets_of(fleet), {"--jobs", "8", "--host-port", std::to_string(port)}));
    expect_consistent(r);
    ASSERT_EQ(r.proc.exit_code, 0) << r.proc.out << r.proc.err;
    auto turns = intervals(r);
    for (std::size_t i = 1; i < turns.size(); ++i)
        EXPECT_GE(turns[i].start, turns[i - 1].end) << "one port cannot tell two devices at one address apart";
    EXPECT_EQ(host_ports(r), std::set<int>{port});
    fleet.expect_received({0, 1, 2}, big_image);
}

TEST(PushFleet, LocalNamesAndDiscoveryOverMulticastOnLoopback) {
    temp_dir dir;
    std::random_device rd;
    const std::string mdns_port = std::to_string(20000 + rd() % 30000);
    emulated_fleet fleet({"--mdns", "--mdns-port", mdns_port, "--devices", "count=2,board=fleet_alpha,hostname=alpha-%d",
                          "--devices", "count=2,kind=esp32,board=fleet_beta,hostname=beta-%d"},
                         4, dir);
    ASSERT_TRUE(fleet.next("mdns", 10s));
    const std::vector<std::string> mdns{"--mdns-port", mdns_port, "--interface", "127.0.0.1", "--mdns-timeout", "1500ms"};

    // name.local, no port: resolved by our own query, then the default ports are tried.
    auto named = run_otaflash(fleet_call(small_image, {"alpha-0.local"}, mdns));
    expect_consistent(named);
    ASSERT_EQ(named.proc.exit_code, 0) << named.proc.err;
    EXPECT_EQ(named.doc["result"]["address"], fleet[0].address);
    EXPECT_EQ(named.doc["result"]["port"], 8266);
    fleet.expect_received({0}, small_image);

    // Every device whose TXT board is fleet_beta, on its advertised port.
    auto call = fleet_call(big_image, {}, mdns);
    call.args.insert(call.args.begin(), {"--discover", "board=fleet_beta"});
    auto found = run_otaflash(call);
    expect_consistent(found);
    ASSERT_EQ(found.proc.exit_code, 0) << found.proc.out << found.proc.err;
    ASSERT_EQ(found.doc["result"]["devices"].size(), 2u);
    for (std::size_t i : {2u, 3u}) {
        const auto& d = entry(found, fleet[i].hostname);
        EXPECT_EQ(d["target"], fleet[i].target());
        EXPECT_EQ(d["board"], "fleet_beta");
        EXPECT_EQ(d["found_by"], "mdns");
    }
    fleet.expect_received({2, 3}, big_image);
    EXPECT_EQ(fleet.count("invitation", fleet[1]), 0u) << "an alpha device was pushed to";

    auto none = fleet_call(small_image, {}, mdns);
    none.args.insert(none.args.begin(), {"--discover", "board=fleet_gamma"});
    auto nobody = run_otaflash(none);
    expect_consistent(nobody);
    EXPECT_EQ(nobody.proc.exit_code, 5);
    EXPECT_EQ(nobody.code(), "host_not_found");
    EXPECT_TRUE(contains(nobody.message(), "board=fleet_gamma")) << nobody.message();
}

TEST(PushFleet, ATargetsFileBoardThatTheDeviceDoesNotAdvertiseRefusesItBeforeAnythingIsSent) {
    temp_dir dir;
    const std::string mdns_port = std::to_string(private_mdns_port());
    emulated_fleet fleet({"--mdns", "--mdns-port", mdns_port, "--devices", "count=2,board=fleet_alpha,hostname=alpha-%d"},
                         2, dir);
    ASSERT_TRUE(fleet.next("mdns", 10s));
    const auto file = dir.write("boards.txt", fleet[0].target() + " label=right board=fleet_alpha\n" + fleet[1].target() +
                                                  " label=wrong board=fleet_beta\n");
    auto r = run_otaflash(fleet_call(small_image, {}, {"--targets", file, "--mdns-port", mdns_port, "--interface",
                                                       "127.0.0.1", "--mdns-timeout", "1500ms"}));
    expect_consistent(r);
    EXPECT_EQ(r.proc.exit_code, 12) << r.proc.out << r.proc.err;
    const auto& right = entry(r, "right");
    EXPECT_EQ(right["status"], "updated");
    EXPECT_EQ(right["board_advertised"], "fleet_alpha");
    const auto& wrong = entry(r, "wrong");
    EXPECT_EQ(wrong["status"], "failed");
    EXPECT_EQ(error_code(wrong), "board_mismatch");
    EXPECT_EQ(wrong["error"]["condition"], "input");
    EXPECT_EQ(wrong["exit_code"], 4);
    EXPECT_EQ(wrong["board_advertised"], "fleet_alpha");
    EXPECT_TRUE(contains(wrong["error"]["message"], "advertises board=fleet_alpha")) << wrong["error"]["message"];
    EXPECT_TRUE(contains(wrong["error"]["message"], "board=fleet_beta")) << wrong["error"]["message"];
    fleet.expect_received({0}, small_image);
    EXPECT_EQ(fleet.count("invitation", fleet[1]), 0u) << "the wrong board was contacted";
}

TEST(PushFleet, SigtermCancelsTheRunningDeviceAndSkipsTheRest) {
    temp_dir dir;
    emulated_fleet fleet({"--devices", "count=3,flash-rate=100000"}, 3, dir);
    std::vector<std::string> argv{bin_path("otaflash"), "--json", "push", "--progress", "none", "--jobs", "1", big_image};
    for (const auto& t : targets_of(fleet)) argv.push_back(t);
    process_options po;
    po.env["CI"] = "true";
    background_process push{argv, po};
    ASSERT_TRUE(fleet.next("invitation", 10s));
    std::this_thread::sleep_for(500ms);  // the first device is receiving
    auto r = push.stop(5000ms);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 143) << r.err;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(doc.is_object()) << r.out;
    EXPECT_EQ(doc["error"]["code"], "interrupted_sigterm");
    const auto& devices = doc["result"]["devices"];
    ASSERT_EQ(devices.size(), 3u);
    EXPECT_EQ(devices[0]["status"], "cancelled");
    EXPECT_EQ(devices[0]["error"]["code"], "interrupted_sigterm");
    EXPECT_EQ(devices[1]["status"], "skipped");
    EXPECT_EQ(devices[2]["status"], "skipped");
    EXPECT_EQ(fleet.count("invitation", fleet[1]) + fleet.count("invitation", fleet[2]), 0u);
}

TEST(PushFleet, CommandLineMistakesAreUsageErrors) {
    auto none = run_otaflash(fleet_call(small_image, {}));
    expect_consistent(none);
    EXPECT_EQ(none.proc.exit_code, 2);
    EXPECT_TRUE(contains(none.message(), "no device given")) << none.message();
    auto jobs = run_otaflash(fleet_call(small_image, {"127.0.0.1", "127.0.0.2"}, {"--jobs", "0"}));
    expect_consistent(jobs);
    EXPECT_EQ(jobs.proc.exit_code, 2);
    temp_dir dir;
    auto missing = run_otaflash(fleet_call(small_image, {}, {"--targets", dir.file("absent.txt")}));
    expect_consistent(missing);
    EXPECT_EQ(missing.proc.exit_code, 4);
    EXPECT_EQ(missing.code(), "file_not_found");
}
