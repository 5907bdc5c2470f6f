// The pure parts of a fleet push: which failures are retried, which targets are one device twice,
// the devices built from arguments, a targets file and discovery (passwords with the environment
// and files faked), and the exit rule, table and totals (cli/fleet_targets.hpp, fleet_report.hpp).

#include "cli/fleet_report.hpp"
#include "cli/fleet_targets.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace otaflash;
using namespace otaflash::cli;

namespace {

password_readers files(std::map<std::string, std::string> contents) {
    password_readers r;
    r.file = [contents](const std::string& path) -> result<secret> {
        auto it = contents.find(path);
        if (it == contents.end()) return make_failure(errc::file_not_found, "no such file: " + path, "check the path");
        return first_line_secret(it->second);
    };
    r.stdin_text = []() -> result<std::string> { return make_failure(errc::internal_error, "stdin must not be read"); };
    return r;
}

env_lookup environment(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

resolved_password global_password(const std::string& value) {
    resolved_password p;
    p.password = secret{value};
    p.source = password_source::env;
    return p;
}

fleet_target listed(std::string target, std::string label, int line) {
    fleet_target t;
    t.target = std::move(target);
    t.label = std::move(label);
    t.line = line;
    return t;
}

device_outcome outcome(const std::string& label, device_status status, std::optional<errc> code = std::nullopt) {
    device_outcome d;
    d.status = status;
    if (code) d.error = make_failure(*code, "it went wrong on " + label, "hint for " + label);
    d.result = {{"label", label}, {"target", label}, {"address", "10.0.0.1"}, {"port", 8266},
                {"bytes_sent", status == device_status::updated ? 1000 : 0}, {"duration_ms", 1500},
                {"throughput_bps", status == device_status::updated ? 2048 : 0},
                {"device", {{"reply", "OK"}, {"result", status == device_status::updated ? nlohmann::json("OK") : nlohmann::json(nullptr)}}}};
    return d;
}

}  // namespace

TEST(Fleet, RetriesOnlyWhereAnotherAttemptCanHelp) {
    for (auto code : {errc::invite_no_reply, errc::accept_timeout, errc::host_not_found, errc::connection_lost,
                      errc::ack_timeout, errc::device_error, errc::result_unconfirmed})
        EXPECT_TRUE(worth_retrying(code)) << code_name(code);
    for (auto code : {errc::auth_failed, errc::auth_required, errc::password_unavailable, errc::device_refused,
                      errc::not_an_image, errc::chip_mismatch, errc::target_invalid, errc::bind_failed,
                      errc::port_busy, errc::image_check_failed, errc::interrupted_sigint, errc::cancelled_fail_fast})
        EXPECT_FALSE(worth_retrying(code)) << code_name(code);
}

TEST(Fleet, OneAddressTwiceIsRefusedOnlyWhenThePortsMeet) {
    EXPECT_TRUE(check_addresses({{"a", "10.0.0.1", {8266}}, {"b", "10.0.0.2", {8266}}}));
    EXPECT_TRUE(check_addresses({{"a", "10.0.0.1", {8266}}, {"b", "10.0.0.1", {8267}}}))
        << "distinct ports at one address: two devices";
    EXPECT_TRUE(check_addresses({{"a", "", {8266}}, {"b", "", {8266}}})) << "unresolved devices are not compared";

    auto same = check_addresses({{"kitchen", "10.0.0.1", {8266}}, {"b", "10.0.0.2", {8266}}, {"esp.local", "10.0.0.1", {3232, 8266, 2040}}});
    ASSERT_FALSE(same);
    EXPECT_EQ(same.error().code, errc::target_invalid);
    EXPECT_NE(same.error().message.find("'kitchen' and 'esp.local'"), std::string::npos) << same.error().message;
    EXPECT_NE(same.error().message.find("10.0.0.1:8266"), std::string::npos) << same.error().message;
}

TEST(Fleet, DevicesFromArgumentsFileAndDiscoveryWithTheirOwnPasswords) {
    device_sources s;
    s.arguments = {"10.0.0.1", "10.0.0.2:3232"};
    s.listed_from = "fleet.txt";
    s.listed = {listed("10.0.0.3", "kitchen", 2), listed("10.0.0.4:2040", "garage", 3), listed("10.0.0.5", "porch", 4)};
    s.listed[0].password_env = "KITCHEN_PW";
    s.listed[0].board = "d1_mini";
    s.listed[1].password_file = "/run/garage";
    s.listed[1].chip = "rp2040";
    mdns::service_instance found;
    found.name = "esp-7";
    found.host = "esp-7.local";
    found.port = 3232;
    found.addresses = {"10.0.0.7"};
    found.txt = {{"board", "esp32"}, {"auth_upload", "yes"}};
    mdns::service_instance mute = found;
    mute.name = "esp-8";
    mute.host = "esp-8.local";
    mute.addresses.clear();
    s.discovered = {found, mute};

    auto r = fleet_devices(s, global_password("fallback"), files({{"/run/garage", "garage pw\nignored\n"}}),
                           environment({{"KITCHEN_PW", "kitchen pw"}}));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 7u);
    const auto& d = *r;
    EXPECT_EQ(d[0].label, "10.0.0.1");
    EXPECT_EQ(d[0].ports, default_device_ports);
    EXPECT_EQ(d[0].password.password.reveal(), "fallback");
    EXPECT_EQ(d[1].ports, std::vector<std::uint16_t>{3232});
    EXPECT_EQ(d[2].label, "kitchen");
    EXPECT_EQ(d[2].password.password.reveal(), "kitchen pw");
    EXPECT_EQ(d[2].password.source, password_source::target_env);
    EXPECT_EQ(d[2].facts["board"], "d1_mini");
    EXPECT_EQ(d[3].password.password.reveal(), "garage pw");
    EXPECT_EQ(d[3].password.source, password_source::target_file);
    EXPECT_EQ(d[3].facts["chip"], "rp2040");
    EXPECT_EQ(d[3].ports, std::vector<std::uint16_t>{2040});
    EXPECT_EQ(d[4].password.password.reveal(), "fallback");
    EXPECT_EQ(d[5].label, "esp-7");
    EXPECT_EQ(d[5].target_text, "10.0.0.7:3232");
    EXPECT_EQ(d[5].facts["board"], "esp32");
    EXPECT_FALSE(d[5].refused);
    ASSERT_TRUE(d[6].refused) << "answered the browse without an address: reported, never contacted";
    EXPECT_EQ(d[6].refused->code, errc::host_not_found);
}

TEST(Fleet, PortOptionFillsTargetsWithoutOneAndClashesWithAnArgumentThatHasAnother) {
    device_sources s;
    s.arguments = {"10.0.0.1"};
    s.listed_from = "f.txt";
    s.listed = {listed("10.0.0.3:2040", "pico", 1), listed("10.0.0.4", "plain", 2)};
    s.port = 8266;
    auto r = fleet_devices(s, {}, files({}), environment({}));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)[0].ports, std::vector<std::uint16_t>{8266});
    EXPECT_EQ((*r)[1].ports, std::vector<std::uint16_t>{2040}) << "the file's own port wins";
    EXPECT_EQ((*r)[2].ports, std::vector<std::uint16_t>{8266});

    s.arguments = {"10.0.0.1:3232"};
    auto clash = fleet_devices(s, {}, files({}), environment({}));
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().code, errc::usage_error);
}

TEST(Fleet, MissingPerDevicePasswordsRefuseTheRunNamingFileLineAndVariable) {
    device_sources s;
    s.listed_from = "fleet.txt";
    s.listed = {listed("10.0.0.3", "kitchen", 7)};
    s.listed[0].password_env = "KITCHEN_PW";
    auto unset = fleet_devices(s, global_password("fallback"), files({}), environment({}));
    ASSERT_FALSE(unset);
    EXPECT_EQ(unset.error().code, errc::config_invalid);
    EXPECT_NE(unset.error().message.find("fleet.txt:7"), std::string::npos) << unset.error().message;
    EXPECT_NE(unset.error().message.find("KITCHEN_PW"), std::string::npos) << unset.error().message;
    auto empty = fleet_devices(s, {}, files({}), environment({{"KITCHEN_PW", ""}}));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().code, errc::config_invalid);

    s.listed[0].password_env.clear();
    s.listed[0].password_file = "/run/none";
    auto missing = fleet_devices(s, {}, files({}), environment({}));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::file_not_found);
    EXPECT_NE(missing.error().message.find("fleet.txt:7"), std::string::npos) << missing.error().message;

    s.listed[0].password_env = "KITCHEN_PW";
    auto both = fleet_devices(s, {}, files({{"/run/none", "x"}}), environment({{"KITCHEN_PW", "y"}}));
    ASSERT_FALSE(both);
    EXPECT_EQ(both.error().code, errc::target_invalid);
}

TEST(Fleet, BadTargetInAFileNamesTheLineAndLabelsMustDiffer) {
    device_sources s;
    s.listed_from = "fleet.txt";
    s.listed = {listed("10.0.0.3:99999", "kitchen", 4)};
    auto bad = fleet_devices(s, {}, files({}), environment({}));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::target_invalid);
    EXPECT_NE(bad.error().message.find("fleet.txt:4"), std::string::npos) << bad.error().message;

    s.listed = {listed("10.0.0.3", "10.0.0.9", 1)};
    s.arguments = {"10.0.0.9"};
    auto twice = fleet_devices(s, {}, files({}), environment({}));
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, errc::target_invalid);
}

namespace {

push_device listed(const std::string& label, const std::string& host, std::optional<std::uint16_t> port,
                   const std::string& board) {
    push_device d;
    d.label = label;
    d.target = {host, port};
    d.expected_board = board;
    return d;
}

mdns::service_instance advertised(const std::string& name, const std::string& address, std::uint16_t port,
                                  const std::string& board) {
    mdns::service_instance s;
    s.name = name;
    s.instance = name + "._arduino._tcp.local";
    s.host = name + ".local";
    s.port = port;
    s.addresses = {address};
    if (!board.empty()) s.txt["board"] = board;
    return s;
}

}  // namespace

TEST(Fleet, TargetsFileBoardIsComparedWithWhatTheDeviceAdvertises) {
    std::vector<push_device> devices{listed("kitchen", "10.0.0.1", 8266, "d1_mini"),
                                     listed("garage", "10.0.0.2", std::nullopt, "d1_mini"),
                                     listed("porch", "Esp-Porch.local", std::nullopt, "esp32"),
                                     listed("attic", "10.0.0.4", 8266, "d1_mini"),
                                     listed("cellar", "10.0.0.5", 8266, ""),
                                     listed("shed", "10.0.0.6", 3232, "esp32")};
    const std::vector<mdns::service_instance> answers{
        advertised("esp-kitchen", "10.0.0.1", 8266, "d1_mini"), advertised("esp-garage", "10.0.0.2", 3232, "esp32"),
        advertised("esp-porch", "10.0.0.3", 3232, "esp32"), advertised("esp-cellar", "10.0.0.5", 8266, "nodemcuv2"),
        advertised("esp-shed", "10.0.0.6", 3232, "")};
    auto warnings = check_boards(devices, answers);

    EXPECT_FALSE(devices[0].refused) << "the same board";
    EXPECT_EQ(devices[0].facts["board_advertised"], "d1_mini");
    ASSERT_TRUE(devices[1].refused) << "an esp32 where the file says d1_mini";
    EXPECT_EQ(devices[1].refused->code, errc::board_mismatch);
    EXPECT_EQ(condition_of(errc::board_mismatch), condition::input);
    EXPECT_NE(devices[1].refused->message.find("garage"), std::string::npos) << devices[1].refused->message;
    EXPECT_NE(devices[1].refused->message.find("board=esp32"), std::string::npos) << devices[1].refused->message;
    EXPECT_NE(devices[1].refused->message.find("board=d1_mini"), std::string::npos) << devices[1].refused->message;
    EXPECT_EQ(devices[1].facts["board_advertised"], "esp32");
    EXPECT_FALSE(devices[2].refused) << "found by its name, in any case";
    EXPECT_FALSE(devices[3].refused) << "not advertised: not refused, but said";
    EXPECT_FALSE(devices[4].refused) << "no board= in the file: nothing to compare";
    ASSERT_TRUE(devices[5].refused) << "advertises no board at all";
    EXPECT_EQ(devices[5].refused->code, errc::board_mismatch);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("attic"), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("not checked"), std::string::npos) << warnings[0];
}

TEST(Fleet, BoardIsMatchedOnTheAdvertisedPortWhenTheTargetNamesOne) {
    std::vector<push_device> devices{listed("a", "10.0.0.1", 8266, "d1_mini"), listed("b", "10.0.0.1", 8267, "esp32")};
    auto warnings = check_boards(devices, {advertised("esp-a", "10.0.0.1", 8266, "d1_mini"),
                                           advertised("esp-b", "10.0.0.1", 8267, "esp32")});
    EXPECT_FALSE(devices[0].refused);
    EXPECT_FALSE(devices[1].refused) << "two devices behind one address, each its own board";
    EXPECT_TRUE(warnings.empty());
}

TEST(FleetReport, EveryDeviceUpdatedIsSuccess) {
    EXPECT_FALSE(fleet_failure({outcome("a", device_status::updated), outcome("b", device_status::updated)}));
}

TEST(FleetReport, SomeUpdatedSomeNotIsPartial) {
    auto f = fleet_failure({outcome("a", device_status::updated), outcome("b", device_status::failed, errc::auth_failed),
                            outcome("c", device_status::failed, errc::invite_no_reply)});
    ASSERT_TRUE(f);
    EXPECT_EQ(f->code, errc::some_targets_failed);
    EXPECT_NE(f->message.find("2 of 3"), std::string::npos) << f->message;
    EXPECT_NE(f->message.find("b (auth_failed)"), std::string::npos) << f->message;
    EXPECT_NE(f->message.find("c (invite_no_reply)"), std::string::npos) << f->message;
}

TEST(FleetReport, NoneUpdatedAndOneClassGivesThatClass) {
    auto offline = fleet_failure({outcome("a", device_status::failed, errc::invite_no_reply),
                                  outcome("b", device_status::failed, errc::accept_timeout)});
    ASSERT_TRUE(offline);
    EXPECT_EQ(condition_of(offline->code), condition::unreachable);
    EXPECT_NE(offline->message.find("no device was updated"), std::string::npos) << offline->message;

    // --fail-fast: the one that failed decides; the cancelled and skipped do not count.
    auto fast = fleet_failure({outcome("a", device_status::failed, errc::auth_failed),
                               outcome("b", device_status::cancelled, errc::cancelled_fail_fast),
                               outcome("c", device_status::skipped, errc::cancelled_fail_fast)});
    ASSERT_TRUE(fast);
    EXPECT_EQ(fast->code, errc::auth_failed);
    EXPECT_EQ(fast->message, "a: it went wrong on a");
    EXPECT_EQ(fast->hint, "hint for a");
}

TEST(FleetReport, NoneUpdatedWithMixedClassesIsPartial) {
    auto f = fleet_failure({outcome("a", device_status::failed, errc::auth_failed),
                            outcome("b", device_status::failed, errc::invite_no_reply)});
    ASSERT_TRUE(f);
    EXPECT_EQ(f->code, errc::some_targets_failed);
}

TEST(FleetReport, TableHasOneAlignedRowPerDeviceAndTotalsCountThem) {
    std::vector<device_outcome> devices{outcome("kitchen", device_status::updated),
                                        outcome("garage-door", device_status::failed, errc::auth_failed),
                                        outcome("porch", device_status::skipped, errc::cancelled_fail_fast)};
    auto rows = summary_table(devices);
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].substr(0, 6), "DEVICE");
    EXPECT_EQ(rows[1].substr(0, 7), "kitchen");
    const auto column = rows[0].find("RESULT");
    EXPECT_EQ(rows[1].find("updated"), column);
    EXPECT_EQ(rows[2].find("failed"), column);
    EXPECT_NE(rows[2].find("auth (6)"), std::string::npos) << rows[2];
    EXPECT_NE(rows[1].find("10.0.0.1:8266"), std::string::npos) << rows[1];
    EXPECT_NE(rows[1].find("2.0 KiB/s"), std::string::npos) << rows[1];
    EXPECT_NE(rows[3].find("partial (12)"), std::string::npos) << rows[3];

    EXPECT_EQ(totals_line(devices, 2500), "3 devices: 1 updated, 1 failed, 1 skipped in 2.5 s");
    auto totals = totals_json(devices, 2500);
    EXPECT_EQ(totals["devices"], 3);
    EXPECT_EQ(totals["updated"], 1);
    EXPECT_EQ(totals["failed"], 1);
    EXPECT_EQ(totals["skipped"], 1);
    EXPECT_EQ(totals["failed_by_class"]["auth"], 1);
    EXPECT_EQ(totals["bytes_sent"], 1000);
}
