#include <otaflash/release/catalog.hpp>
#include <otaflash/release/delivery_tracker.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::release;

namespace {
release::release make(std::string title, std::string version, chip target, std::vector<std::string> channels = {}) {
    release::release r;
    r.title = std::move(title);
    r.version = std::move(version);
    r.facts.target = target;
    r.channels = std::move(channels);
    r.app = make_blob(bytes{0xE9, 1, 2, 3});
    return r;
}

// A MAC whose roll-out bucket is below / at least `percent`.
std::string mac_with_bucket(bool below, unsigned percent) {
    for (unsigned i = 0; i < 1000; ++i) {
        char text[18];
        std::snprintf(text, sizeof text, "AA:BB:CC:DD:%02X:%02X", i / 256, i % 256);
        if ((rollout_bucket(text) < percent) == below) return text;
    }
    return {};
}
}  // namespace

TEST(ReleaseBlob, DigestsOfTheBytes) {
    auto blob = make_blob(bytes{'a', 'b', 'c'});
    EXPECT_EQ(blob.md5, "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(blob.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(blob.crc32, 0x352441c2u);
    EXPECT_EQ(blob.size(), 3u);
}

TEST(ReleaseMac, NormalizedFromAnySpelling) {
    EXPECT_EQ(normalize_mac("aa:bb:cc:dd:ee:ff"), "AA:BB:CC:DD:EE:FF");
    EXPECT_EQ(normalize_mac("aa-bb-cc-dd-ee-0f"), "AA:BB:CC:DD:EE:0F");
    EXPECT_EQ(normalize_mac("aabbccddeeff"), "AA:BB:CC:DD:EE:FF");
    EXPECT_FALSE(normalize_mac("aa:bb:cc:dd:ee"));
    EXPECT_FALSE(normalize_mac("sensor-7"));
    EXPECT_EQ(device_key("sensor-7"), "sensor-7");
    EXPECT_EQ(flash_size_bytes("4MB"), 4u << 20);
    EXPECT_EQ(flash_size_bytes("512KB"), 512u << 10);
    EXPECT_EQ(flash_size_bytes("unknown (0xa)"), 0u);
}

TEST(Catalog, NewestOfTheDefaultChannel) {
    catalog c({make("app", "1.0.0", chip::esp32), make("app", "1.2.0", chip::esp32), make("app", "2.0.0", chip::esp32, {"beta"})},
              {});
    auto s = c.select({"AA:BB:CC:DD:EE:FF", "", "", chip_family::esp32});
    ASSERT_TRUE(s.chosen);
    EXPECT_EQ(s.chosen->version, "1.2.0");
    auto beta = c.select({"AA:BB:CC:DD:EE:FF", "beta", "", chip_family::esp32});
    ASSERT_TRUE(beta.chosen);
    EXPECT_EQ(beta.chosen->version, "2.0.0");
    auto none = c.select({"", "nightly", "", chip_family::any});
    EXPECT_FALSE(none.chosen);
    EXPECT_FALSE(none.refused);
    EXPECT_EQ(none.reason, "no release in channel 'nightly'");
    EXPECT_EQ(c.channels(), std::vector<std::string>{"beta"});
}

TEST(Catalog, ChipFamilyPicksTheMatchingImageElseOffersTheOtherForRefusal) {
    catalog c({make("app", "1.0.0", chip::esp8266), make("app", "1.0.0", chip::esp32c3)}, {});
    EXPECT_EQ(c.select({"", "", "", chip_family::esp8266}).chosen->facts.target, chip::esp8266);
    EXPECT_EQ(c.select({"", "", "", chip_family::esp32}).chosen->facts.target, chip::esp32c3);
    catalog only32({make("app", "1.0.0", chip::esp32)}, {});
    EXPECT_EQ(only32.select({"", "", "", chip_family::esp8266}).chosen->facts.target, chip::esp32);
}

TEST(Catalog, TitleSelectsAndFindByTitle) {
    catalog c({make("lamp", "1.0.0", chip::esp32), make("sensor", "3.0.0", chip::esp32), make("sensor", "3.1.0", chip::esp32)}, {});
    EXPECT_EQ(c.select({"", "", "lamp", chip_family::any}).chosen->title, "lamp");
    ASSERT_TRUE(c.find_by_title("sensor"));
    EXPECT_EQ(c.find_by_title("sensor")->version, "3.1.0");
    EXPECT_EQ(c.find_by_title("door"), nullptr);
    EXPECT_EQ(c.latest()->version, "3.1.0");
}

TEST(Catalog, AllowListRefusesOthersAndDevicesWithoutMac) {
    policy p;
    p.allow = {"AA:BB:CC:DD:EE:01"};
    catalog c({make("app", "1.0.0", chip::esp32)}, p);
    EXPECT_TRUE(c.select({"AA:BB:CC:DD:EE:01", "", "", chip_family::any}).chosen);
    auto other = c.select({"AA:BB:CC:DD:EE:02", "", "", chip_family::any});
    EXPECT_TRUE(other.refused);
    EXPECT_EQ(other.reason, "MAC AA:BB:CC:DD:EE:02 is not on the allow-list");
    EXPECT_TRUE(c.select({"", "", "", chip_family::any}).refused);
}

TEST(Catalog, PinSelectsItsVersionOrRefuses) {
    policy p;
    p.pins = {{"AA:BB:CC:DD:EE:01", "1.0.0"}, {"AA:BB:CC:DD:EE:02", "0.9.0"}};
    catalog c({make("app", "1.0.0", chip::esp32), make("app", "1.1.0", chip::esp32)}, p);
    EXPECT_EQ(c.select({"AA:BB:CC:DD:EE:01", "", "", chip_family::any}).chosen->version, "1.0.0");
    auto missing = c.select({"AA:BB:CC:DD:EE:02", "", "", chip_family::any});
    EXPECT_TRUE(missing.refused);
    EXPECT_EQ(missing.reason, "MAC AA:BB:CC:DD:EE:02 is pinned to version 0.9.0, which is not served");
    EXPECT_EQ(c.select({"AA:BB:CC:DD:EE:03", "", "", chip_family::any}).chosen->version, "1.1.0");
}

TEST(Catalog, RolloutByStableMacHash) {
    EXPECT_EQ(rollout_bucket("AA:BB:CC:DD:EE:FF"), rollout_bucket("AA:BB:CC:DD:EE:FF"));
    policy p;
    p.rollout_percent = 30;
    catalog c({make("app", "1.0.0", chip::esp32), make("app", "1.1.0", chip::esp32)}, p);
    auto in = mac_with_bucket(true, 30), out = mac_with_bucket(false, 30);
    ASSERT_FALSE(in.empty());
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(c.select({in, "", "", chip_family::any}).chosen->version, "1.1.0");
    auto held = c.select({out, "", "", chip_family::any});
    EXPECT_TRUE(held.held_back);
    ASSERT_TRUE(held.chosen);
    EXPECT_EQ(held.chosen->version, "1.0.0");  // the previous release
    catalog single({make("app", "1.1.0", chip::esp32)}, p);
    auto nothing = single.select({out, "", "", chip_family::any});
    EXPECT_TRUE(nothing.held_back);
    EXPECT_FALSE(nothing.chosen);
    // Roughly the asked share of a fleet: 1000 MACs, 30 % ± 5 %.
    unsigned inside = 0;
    for (unsigned i = 0; i < 1000; ++i) {
        char text[18];
        std::snprintf(text, sizeof text, "24:0A:C4:00:%02X:%02X", i / 256, i % 256);
        inside += rollout_bucket(text) < 30;
    }
    EXPECT_GT(inside, 250u);
    EXPECT_LT(inside, 350u);
}

TEST(DeliveryTracker, DoneWhenEveryExpectedDeviceHasIt) {
    delivery_tracker t({"aa:bb:cc:dd:ee:01", "AA-BB-CC-DD-EE-02", "AA:BB:CC:DD:EE:01"});
    ASSERT_EQ(t.entries().size(), 2u);
    device_event e;
    e.device = "AA:BB:CC:DD:EE:01";
    e.kind = event_kind::failed;
    e.code = errc::connection_lost;
    EXPECT_FALSE(t.record(e));
    EXPECT_EQ(t.shortfall(), errc::some_targets_failed);
    e.kind = event_kind::delivered;
    EXPECT_FALSE(t.record(e));
    EXPECT_EQ(t.shortfall(), errc::expected_devices_missing);
    e.kind = event_kind::failed;  // a later failure does not undo a delivery
    EXPECT_FALSE(t.record(e));
    EXPECT_EQ(t.entries()[0].state, delivery_state::delivered);
    device_event other;
    other.device = "AA:BB:CC:DD:EE:99";
    other.kind = event_kind::delivered;
    EXPECT_FALSE(t.record(other));
    device_event second;
    second.device = "aa:bb:cc:dd:ee:02";
    second.kind = event_kind::already_current;
    EXPECT_TRUE(t.record(second));
    EXPECT_TRUE(t.all_done());
    EXPECT_EQ(t.shortfall(), std::nullopt);
}

TEST(DeliveryTracker, ProgressAndAskedChangeNothing) {
    delivery_tracker t({"sensor-1"});
    device_event e;
    e.device = "sensor-1";
    e.kind = event_kind::progress;
    EXPECT_FALSE(t.record(e));
    EXPECT_EQ(t.entries()[0].state, delivery_state::waiting);
}
