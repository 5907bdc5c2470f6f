// Describing a fleet: SPEC syntax, groups on top of the command line's defaults, and the plan that
// gives every device its own endpoint, hostname and output file.

#include "emulator/ota/fleet_plan.hpp"

#include <otaflash/proto/espota/auth.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

using namespace otaflash;
using namespace otaflash::emulator::ota;

namespace {

device_settings no_password_defaults() {
    device_settings d;
    d.password.from = password_source::origin::none;
    return d;
}

device_group group(const std::string& spec, const device_settings& defaults = no_password_defaults()) {
    auto g = parse_group(spec, defaults);
    if (!g) throw std::runtime_error(g.error().message);
    return *g;
}

std::vector<device_config> plan(std::vector<device_group> groups, spread_mode spread = spread_mode::port) {
    auto p = plan_fleet(groups, spread);
    if (!p) throw std::runtime_error(p.error().message);
    return *p;
}

std::vector<std::string> endpoints(const std::vector<device_config>& fleet) {
    std::vector<std::string> out;
    for (const auto& d : fleet) out.push_back(d.bind_address + ":" + std::to_string(d.port.value_or(0)));
    return out;
}

TEST(OtaFleetSpec, SplitsOnCommasKeepsLaterEqualsAndHonoursBackslashes) {
    auto items = split_spec(R"(count=3,fault=drop-after=4096,fault=end-error=Flash\, Write Failed,no-password)");
    ASSERT_TRUE(items) << items.error().message;
    const spec_items expected{{"count", "3"},
                              {"fault", "drop-after=4096"},
                              {"fault", "end-error=Flash, Write Failed"},
                              {"no-password", ""}};
    EXPECT_EQ(*items, expected);
    EXPECT_FALSE(split_spec("count=3,,kind=esp32"));
    EXPECT_FALSE(split_spec("=3"));
    EXPECT_FALSE(split_spec("count=3\\"));
}

TEST(OtaFleetSpec, GroupTakesTheDefaultsAndOverridesWhatItNames) {
    device_settings defaults = no_password_defaults();
    defaults.kind = "esp32";
    defaults.flash_size = 4096;
    defaults.faults = {"silent"};
    auto g = group("count=7,kind=rp2040,board=my_board,loop-ms=20,time-scale=0.25", defaults);
    EXPECT_EQ(g.count, 7u);
    EXPECT_EQ(g.settings.kind, "rp2040");
    EXPECT_EQ(g.settings.board, "my_board");
    EXPECT_EQ(g.settings.loop_ms, 20u);
    EXPECT_DOUBLE_EQ(g.settings.time_scale, 0.25);
    EXPECT_EQ(g.settings.flash_size, 4096u);                      // inherited
    EXPECT_EQ(g.settings.faults, std::vector<std::string>{"silent"});  // inherited: the SPEC names none

    // Naming a fault replaces the defaults' faults; fault=none leaves none.
    EXPECT_EQ(group("fault=no-space,fault=bad-md5", defaults).settings.faults,
              (std::vector<std::string>{"no-space", "bad-md5"}));
    EXPECT_TRUE(group("fault=none", defaults).settings.faults.empty());
}

TEST(OtaFleetSpec, BadGroupsSayWhatIsWrong) {
    const device_settings d = no_password_defaults();
    for (const char* spec : {"count=0", "count=x", "count=2,count=3", "count=70000", "flavour=mint", "port=70000",
                             "flash-size=lots", "time-scale=fast", "kind=", "no-password=yes"}) {
        auto g = parse_group(spec, d);
        ASSERT_FALSE(g) << spec;
        EXPECT_EQ(g.error().code, errc::usage_error) << spec;
        EXPECT_FALSE(g.error().hint.empty()) << spec;
    }
    auto unknown = parse_group("flavour=mint", d);
    EXPECT_NE(unknown.error().hint.find("password-env"), std::string::npos);
    // A password itself never goes on the command line.
    auto secret_inline = parse_group("password=hunter2", d);
    ASSERT_FALSE(secret_inline);
    EXPECT_EQ(secret_inline.error().message.find("hunter2"), std::string::npos);
    EXPECT_NE(secret_inline.error().hint.find("password-env"), std::string::npos);
    EXPECT_EQ(shown_spec("count=2,password=hunter2,kind=esp32"), "count=2,password=***,kind=esp32");
    EXPECT_EQ(shown_spec("count=2,kind=esp32"), "count=2,kind=esp32");
}

TEST(OtaFleetSpec, FleetFileSkipsCommentsAndBlankLinesAndKeepsLineNumbers) {
    auto lines = fleet_file_specs("# factory line 3\n\ncount=90,kind=esp8266\n  count=10,fault=bad-md5  \r\n# end\n");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].number, 3u);
    EXPECT_EQ(lines[0].spec, "count=90,kind=esp8266");
    EXPECT_EQ(lines[1].number, 4u);
    EXPECT_EQ(lines[1].spec, "count=10,fault=bad-md5");
}

TEST(OtaFleetPlan, PortSpreadNeverGivesTwoDevicesOneEndpoint) {
    auto fleet = plan({group("count=2"), group("count=2,kind=esp32"), group("count=2"), group("count=2,port=0")});
    EXPECT_EQ(endpoints(fleet), (std::vector<std::string>{"127.0.0.1:8266", "127.0.0.1:8267", "127.0.0.1:3232",
                                                          "127.0.0.1:3233", "127.0.0.1:8268", "127.0.0.1:8269",
                                                          "127.0.0.1:0", "127.0.0.1:0"}));
    EXPECT_EQ(fleet[2].kind, device_kind::esp32);

    auto past_end = plan_fleet({group("count=2,port=65535")}, spread_mode::port);
    ASSERT_FALSE(past_end);
    EXPECT_NE(past_end.error().message.find("no port left"), std::string::npos);
}

TEST(OtaFleetPlan, AddressSpreadGivesEveryDeviceItsOwnAddressOnItsKindsPort) {
    auto fleet = plan({group("count=2"), group("count=2,kind=esp32"), group("count=1,bind=127.0.0.2,kind=rp2040")},
                      spread_mode::address);
    EXPECT_EQ(endpoints(fleet), (std::vector<std::string>{"127.0.0.1:8266", "127.0.0.2:8266", "127.0.0.3:3232",
                                                          "127.0.0.4:3232", "127.0.0.5:2040"}));

    auto v6 = plan_fleet({group("count=2,bind=::1")}, spread_mode::address);
    ASSERT_FALSE(v6);
    EXPECT_EQ(v6.error().code, errc::usage_error);
    // One device needs no spreading, whatever its address.
    auto one = plan({group("bind=::1")}, spread_mode::address);
    EXPECT_EQ(one[0].bind_address, "::1");
    EXPECT_FALSE(one[0].port);  // the kind's
}

TEST(OtaFleetPlan, HostnamePatternsExpandTheFleetIndexAndMustBeUniqueAndValid) {
    auto fleet = plan({group("count=2,hostname=esp-%d"), group("count=1")}, spread_mode::port);
    ASSERT_EQ(fleet.size(), 3u);
    EXPECT_EQ(fleet[0].hostname, "esp-0");
    EXPECT_EQ(fleet[1].hostname, "esp-1");
    EXPECT_EQ(fleet[2].hostname, "");  // the kind's default, made when the device binds
    auto percent = plan_fleet({group("hostname=rack-%d%%")}, spread_mode::port);  // "rack-0%": no DNS name
    ASSERT_FALSE(percent);
    EXPECT_NE(percent.error().message.find("rack-0%"), std::string::npos);

    auto twice = plan_fleet({group("count=2,hostname=esp")}, spread_mode::port);
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().hint.find("%d"), std::string::npos);
    auto case_only = plan_fleet({group("hostname=ESP"), group("hostname=esp")}, spread_mode::port);
    EXPECT_FALSE(case_only);
    for (const char* bad : {"hostname=esp.local", "hostname=-esp", "hostname=esp_%x", "hostname=esp%"})
        EXPECT_FALSE(plan_fleet({group(bad)}, spread_mode::port)) << bad;
}

TEST(OtaFleetPlan, OutFilesAreOwnedByOneDeviceEach) {
    device_settings d = no_password_defaults();
    d.out = "got.bin";
    auto fleet = plan({group("count=2", d), group("out=special.bin", d), group("out=dir/%d.bin", d)});
    EXPECT_EQ(fleet[0].out_file, "got.bin.0");
    EXPECT_EQ(fleet[1].out_file, "got.bin.1");
    EXPECT_EQ(fleet[2].out_file, "special.bin");
    EXPECT_EQ(fleet[3].out_file, "dir/3.bin");
    EXPECT_EQ(plan({group("", d)})[0].out_file, "got.bin");  // one device: the name as given
}

TEST(OtaFleetPlan, PasswordsComeFromTheNamedVariableOrNowhere) {
    ::setenv("OTAFLASH_TEST_FLEET_PW", "s3cret", 1);
    ::unsetenv("OTAFLASH_TEST_FLEET_UNSET");
    device_settings defaults;  // the default variable, which may be unset
    defaults.password.name = "OTAFLASH_TEST_FLEET_UNSET";
    auto fleet = plan({group("kind=esp32,password-env=OTAFLASH_TEST_FLEET_PW", defaults), group("", defaults),
                       group("password-env=OTAFLASH_TEST_FLEET_PW,no-password", defaults)});
    ASSERT_TRUE(fleet[0].password);
    EXPECT_EQ(fleet[0].password->reveal(), espota::stored_hash_sha256("s3cret"));
    EXPECT_FALSE(fleet[1].password);
    EXPECT_FALSE(fleet[2].password);

    auto unset = plan_fleet({group("password-env=OTAFLASH_TEST_FLEET_UNSET", defaults)}, spread_mode::port);
    ASSERT_FALSE(unset);
    EXPECT_NE(unset.error().message.find("OTAFLASH_TEST_FLEET_UNSET"), std::string::npos);

    // A group's own mistakes name the group.
    auto g = group("fault=reject-auth", no_password_defaults());
    g.origin = "--devices 'fault=reject-auth'";
    auto needs_password = plan_fleet({g}, spread_mode::port);
    ASSERT_FALSE(needs_password);
    EXPECT_EQ(needs_password.error().message.rfind("--devices 'fault=reject-auth': ", 0), 0u)
        << needs_password.error().message;
}

TEST(OtaKind, DefaultHostnamesCarryAChipIdMadeFromAddressAndPort) {
    const std::uint32_t loopback = 0x7f000001;
    EXPECT_EQ(default_hostname(traits(device_kind::esp8266), loopback, 8266), "esp8266-01204a");
    EXPECT_EQ(default_hostname(traits(device_kind::esp32), loopback, 3232), "esp32-7f0000010ca0");
    EXPECT_EQ(default_hostname(traits(device_kind::esp32_legacy), 0x7f000002, 3232), "esp32-7f0000020ca0");
    EXPECT_EQ(default_hostname(traits(device_kind::rp2040), loopback, 2040), "pico-00007f00000107f8");
    EXPECT_EQ(traits(device_kind::esp8266).default_board, "d1_mini");
    EXPECT_EQ(traits(device_kind::esp32).default_board, "esp32");
    EXPECT_EQ(traits(device_kind::rp2040).default_board, "rpipicow");
}

}  // namespace
