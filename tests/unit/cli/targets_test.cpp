#include "cli/targets.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::cli;

TEST(Targets, TextLinesWithKeysAndComments) {
    auto r = parse_targets("# kitchen and garage\n"
                           "10.0.4.17:8266  label=kitchen password_env=KITCHEN_PW board=d1_mini\n"
                           "\n"
                           "  [fd00::5]:3232\tchip=esp32   # garage\r\n"
                           "esp-porch.local\n",
                           "fleet.txt");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].target, "10.0.4.17:8266");
    EXPECT_EQ((*r)[0].label, "kitchen");
    EXPECT_EQ((*r)[0].password_env, "KITCHEN_PW");
    EXPECT_EQ((*r)[0].board, "d1_mini");
    EXPECT_EQ((*r)[0].line, 2);
    EXPECT_EQ((*r)[1].target, "[fd00::5]:3232");
    EXPECT_EQ((*r)[1].chip, "esp32");
    EXPECT_EQ((*r)[1].label, "[fd00::5]:3232");
    EXPECT_EQ((*r)[2].target, "esp-porch.local");
}

TEST(Targets, JsonInventory) {
    auto r = parse_targets(R"({"devices": [
        {"host": "10.0.4.17", "port": 8266, "label": "kitchen", "password_file": "/run/secrets/k"},
        {"host": "fd00::5", "port": 3232, "chip": "esp32"},
        {"host": "esp-porch.local"}]})",
                           "fleet.json");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].target, "10.0.4.17:8266");
    EXPECT_EQ((*r)[0].password_file, "/run/secrets/k");
    EXPECT_EQ((*r)[1].target, "[fd00::5]:3232");
    EXPECT_EQ((*r)[2].label, "esp-porch.local");
}

TEST(Targets, ErrorsNameTheLineAndRefusePasswords) {
    auto r = parse_targets("a\nb password=hunter2\n", "fleet.txt");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::target_invalid);
    EXPECT_NE(r.error().message.find("fleet.txt:2"), std::string::npos);
    EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);

    EXPECT_FALSE(parse_targets("a colour=blue", "t"));
    EXPECT_FALSE(parse_targets("a label=x\nb label=x", "t"));
    EXPECT_FALSE(parse_targets("# nothing\n", "t"));
    EXPECT_FALSE(parse_targets("[{\"port\": 1}]", "t"));
    EXPECT_FALSE(parse_targets("[{\"host\": \"a\", \"port\": 70000}]", "t"));
    EXPECT_FALSE(parse_targets("[{\"host\": \"a\"", "t"));
}
