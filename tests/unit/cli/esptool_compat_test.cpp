// esptool command lines (pasted from its documentation and from idf.py's output) in otaflash's words.

#include "cli/esptool_compat.hpp"
#include "cli/suggest.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::cli;
using words = std::vector<std::string>;

namespace {
// otaflash's global options that take a value.
bool takes_value(std::string_view name) { return name == "--progress" || name == "--log-level" || name == "--log-file"; }

result<words> from_esptool(words args) { return cli::from_esptool(std::move(args), takes_value); }
}  // namespace

TEST(EsptoolCompat, OtaflashCommandLinesPassUntouched) {
    const words ours{"--json", "serial", "-p", "/dev/ttyUSB0", "--after", "no-reset", "0x1000", "write_flash.bin"};
    EXPECT_EQ(*from_esptool(ours), ours);
    const words after_end{"verify", "--", "write_flash"};
    EXPECT_EQ(*from_esptool(after_end), after_end);
    // A file named like esptool's command, where otaflash's command has been given already.
    const words file_named_so{"verify", "write_flash", "verify_flash"};
    EXPECT_EQ(*from_esptool(file_named_so), file_named_so);
    const words option_value{"--log-file", "write_flash", "info", "app.bin"};
    EXPECT_EQ(*from_esptool(option_value), option_value);
}

TEST(EsptoolCompat, GlobalOptionsBeforeTheCommandMoveAfterIt) {
    // esptool v4's documentation: "esptool.py --port COM4 write_flash 0x1000 my_app-0x01000.bin"
    EXPECT_EQ(*from_esptool({"--port", "COM4", "write_flash", "0x1000", "my_app-0x01000.bin"}),
              (words{"serial", "--port", "COM4", "0x1000", "my_app-0x01000.bin"}));
    // idf.py's "To flash all build output, run ..." line (esptool v4).
    EXPECT_EQ(*from_esptool({"-p", "/dev/ttyUSB0", "-b", "460800", "--before", "default_reset", "--after", "hard_reset",
                             "--chip", "esp32", "write_flash", "--flash_mode", "keep", "--flash_freq", "keep",
                             "--flash_size", "detect", "0x1000", "bootloader.bin", "0x10000", "app.bin"}),
              (words{"serial", "-p", "/dev/ttyUSB0", "-b", "460800", "--before", "default_reset", "--after",
                     "hard_reset", "--chip", "esp32", "--flash-size", "detect", "0x1000", "bootloader.bin", "0x10000",
                     "app.bin"}));
    // esptool v5: dashes, "=" values, otaflash's own global options stay first.
    EXPECT_EQ(*from_esptool({"--json", "--before=no-reset-no-sync", "--no-stub", "write-flash", "-z", "-fs", "4MB", "0x0", "a.bin"}),
              (words{"--json", "serial", "--before=no-reset-no-sync", "--stub", "none", "--compress", "--flash-size",
                     "4MB", "0x0", "a.bin"}));
    EXPECT_EQ(*from_esptool({"--progress", "none", "-p", "X", "verify_flash", "--diff", "yes", "0x10000", "app.bin"}),
              (words{"--progress", "none", "verify", "-p", "X", "0x10000", "app.bin"}));
}

TEST(EsptoolCompat, WhatOtaflashCannotHonourIsAUsageErrorNamingIt) {
    for (const words& w : {words{"write_flash", "--flash_mode", "dio", "0x0", "a.bin"},
                           words{"write_flash", "-e", "0x0", "a.bin"}, words{"--trace", "write_flash", "a.bin"},
                           words{"write_flash", "@flash_args"}}) {
        auto r = from_esptool(w);
        ASSERT_FALSE(r) << w[1];
        EXPECT_EQ(r.error().code, errc::usage_error);
        EXPECT_FALSE(r.error().hint.empty());
    }
    EXPECT_NE(from_esptool({"write_flash", "--flash_mode", "dio", "a.bin"}).error().message.find("--flash_mode dio"),
              std::string::npos);
}

TEST(Suggest, ClosestCommandForATypo) {
    const words commands{"discover", "info", "verify", "serial", "push", "espota", "completion"};
    EXPECT_EQ(closest("verfy", commands), "verify");
    EXPECT_EQ(closest("pushh", commands), "push");
    EXPECT_EQ(closest("seiral", commands), "serial");  // two letters swapped
    EXPECT_EQ(closest("inof", commands), "info");
    EXPECT_FALSE(closest("flash", commands));
    EXPECT_FALSE(closest("x", commands));
}
