#include "image_builder.hpp"

#include <otaflash/image/partition_table.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::image;
using otaflash::test::build_partition_table;
using otaflash::test::partition_spec;

namespace {
const check* find_check(const std::vector<check>& checks, const std::string& name) {
    for (const auto& c : checks)
        if (c.name == name) return &c;
    return nullptr;
}
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST(PartitionTable, EntriesAndMd5AreRead) {
    std::vector<partition_spec> parts = test::default_partitions();
    parts.push_back({"ota_1", 0x00, 0x11, 0x110000, 0x100000, 1});
    parts.push_back({"storage", 0x01, 0x83, 0x210000, 0x10000, 3});
    const bytes data = build_partition_table(parts);
    ASSERT_TRUE(starts_partition_table(data, 0));
    auto t = parse_partition_table(data, 0);
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_EQ(t->entries.size(), 5u);
    const partition& f = t->entries[2];
    EXPECT_EQ(f.label, "factory");
    EXPECT_EQ(f.type, 0x00);
    EXPECT_EQ(f.offset, 0x10000u);
    EXPECT_EQ(f.size, 0x100000u);
    EXPECT_EQ(f.entry_offset, 64u);
    EXPECT_EQ(partition_type_name(f.type), "app");
    EXPECT_EQ(partition_subtype_name(f.type, f.subtype), "factory");
    EXPECT_EQ(partition_subtype_name(0x00, 0x11), "ota_1");
    EXPECT_EQ(partition_subtype_name(0x01, 0x02), "nvs");
    EXPECT_EQ(partition_subtype_name(0x01, 0x83), "littlefs");
    EXPECT_EQ(partition_subtype_name(0x01, 0x42), "0x42");
    EXPECT_EQ(partition_type_name(0x40), "0x40");
    EXPECT_EQ(partition_flags_text(t->entries[3].flags), "encrypted");
    EXPECT_EQ(partition_flags_text(t->entries[4].flags), "encrypted, readonly");
    ASSERT_TRUE(t->md5);
    EXPECT_EQ(t->md5->offset, 5u * 32);
    EXPECT_TRUE(t->md5->ok());
    EXPECT_EQ(t->md5->computed, md5(byte_view(data).first(5 * 32)));
    for (const auto& c : check_partition_table(*t)) EXPECT_TRUE(c.ok) << c.detail;
}

TEST(PartitionTable, BadMd5FailsItsCheck) {
    bytes data = build_partition_table(test::default_partitions());
    data[2 * 32 + 8] ^= 0x01;  // change the factory app size after the MD5 was computed
    auto t = parse_partition_table(data, 0);
    ASSERT_TRUE(t);
    const auto checks = check_partition_table(*t);
    const check* c = find_check(checks, "partition_table_md5");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_EQ(c->code, errc::image_check_failed);
    EXPECT_TRUE(contains(c->detail, "partition table MD5 mismatch at offset 0x00000060")) << c->detail;
}

TEST(PartitionTable, WithoutMd5EntryThereIsNoMd5Check) {
    auto t = parse_partition_table(build_partition_table(test::default_partitions(), false), 0);
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->md5);
    EXPECT_EQ(find_check(check_partition_table(*t), "partition_table_md5"), nullptr);
}

TEST(PartitionTable, GarbageEntryIsMalformed) {
    bytes data = build_partition_table(test::default_partitions());
    data[32] = 0x12;
    auto t = parse_partition_table(data, 0);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, errc::image_malformed);
    EXPECT_TRUE(contains(t.error().message, "entry 1 at offset 0x00000020 starts with 0x12 0x50")) << t.error().message;
}

TEST(PartitionTable, LayoutCheckFindsOverlapsAndMisalignedApps) {
    auto overlapping = test::default_partitions();
    overlapping.push_back({"extra", 0x01, 0x82, 0x80000, 0x10000, 0});  // inside factory
    auto t = parse_partition_table(build_partition_table(overlapping), 0);
    ASSERT_TRUE(t);
    const auto overlap_checks = check_partition_table(*t);
    const check* c = find_check(overlap_checks, "partition_layout");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_TRUE(contains(c->detail, "'factory' and 'extra' overlap")) << c->detail;

    auto misaligned = test::default_partitions();
    misaligned[2].offset = 0x11000;
    t = parse_partition_table(build_partition_table(misaligned), 0);
    ASSERT_TRUE(t);
    const auto checks = check_partition_table(*t);
    c = find_check(checks, "partition_layout");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->ok);
    EXPECT_TRUE(contains(c->detail, "not on a 64 KiB boundary")) << c->detail;
}

TEST(PartitionTable, TableThatIsJustTerminatorHasNoEntries) {
    bytes data(0xC00, 0xFF);
    data[0] = 0xAA;
    data[1] = 0x50;
    data[32] = 0xFF;
    auto t = parse_partition_table(bytes(32, 0xFF), 0);
    ASSERT_FALSE(t);
    EXPECT_TRUE(contains(t.error().message, "no entries")) << t.error().message;
    EXPECT_TRUE(parse_partition_table(data, 0));  // one entry, then the end
}
