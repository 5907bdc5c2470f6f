// Reading esptool's stub JSON and finding the file for a chip in each layout esptool has used.

#include "cli/stub_files.hpp"

#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace otaflash;
using namespace otaflash::cli;
using otaflash::test::temp_dir;
namespace fs = std::filesystem;

namespace {

// "AAECAwQF" = bytes 0..5; "/w==" = 0xFF.
const std::string good_json =
    R"({"entry": 1074331652, "text": "AAECAwQF", "text_start": 1074331648, "data": "/w==", "data_start": 1073610752, "bss_start": 1073610760})";

void write_at(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

// Sets an environment variable for one test and puts the old value back.
class scoped_env {
public:
    scoped_env(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        ::setenv(name, value.c_str(), 1);
    }
    ~scoped_env() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST(StubFiles, ReadsEsptoolsJson) {
    temp_dir dir;
    auto stub = read_stub_file(dir.write("esp32.json", good_json));
    ASSERT_TRUE(stub) << stub.error().message;
    EXPECT_EQ(stub->entry, 0x40090004u);
    ASSERT_EQ(stub->segments.size(), 2u);
    EXPECT_EQ(stub->segments[0].address, 0x40090000u);
    EXPECT_EQ(stub->segments[0].data, (bytes{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(stub->segments[1].address, 0x3FFE0000u);
    EXPECT_EQ(stub->segments[1].data, bytes{0xFF});
    EXPECT_EQ(stub->source, dir.file("esp32.json"));
}

TEST(StubFiles, EveryDefectIsNamed) {
    temp_dir dir;
    auto message = [&](const std::string& json) {
        auto stub = read_stub_file(dir.write("s.json", json));
        EXPECT_FALSE(stub);
        return stub ? std::string() : stub.error().message;
    };
    EXPECT_NE(message("not json").find("not a JSON object"), std::string::npos);
    EXPECT_NE(message(R"({"text": "AAEC", "text_start": 0})").find("\"entry\" is missing"), std::string::npos);
    EXPECT_NE(message(R"({"entry": 0})").find("\"text\" (the code) is missing"), std::string::npos);
    EXPECT_NE(message(R"({"entry": 0, "text": "A!", "text_start": 0})").find("not valid base64"), std::string::npos);
    EXPECT_NE(message(R"({"entry": 0, "text": "AAEC"})").find("\"text_start\""), std::string::npos);
    EXPECT_NE(message(R"({"entry": 99, "text": "AAEC", "text_start": 0})").find("outside its own code"),
              std::string::npos);
    auto missing = read_stub_file(dir.file("absent.json"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, errc::file_not_found);
}

TEST(StubFiles, FindsTheChipsFileInEveryLayoutNewestFirst) {
    temp_dir dir;
    const fs::path root = dir.path();
    const chip_info& c3 = info(chip::esp32c3);
    EXPECT_TRUE(stub_files_in(root, c3).empty());
    write_at(root / "stub_flasher_32c3.json", good_json);  // esptool ≤ 4.7
    EXPECT_EQ(stub_files_in(root, c3), std::vector<fs::path>{root / "stub_flasher_32c3.json"});
    write_at(root / "1" / "esp32c3.json", good_json);  // legacy stub, esptool ≥ 4.8
    write_at(root / "2" / "esp32c3.json", good_json);  // esp-flasher-stub
    EXPECT_EQ(stub_files_in(root, c3), (std::vector<fs::path>{root / "2" / "esp32c3.json", root / "1" / "esp32c3.json",
                                                               root / "stub_flasher_32c3.json"}));
    EXPECT_TRUE(stub_files_in(root, info(chip::esp8266)).empty());
}

TEST(StubFiles, ProviderHonoursNoneFileDirectoryAndAuto) {
    temp_dir dir;
    const fs::path home = fs::path(dir.path()) / "home";
    const fs::path installed =
        home / ".local" / "lib" / "python3.11" / "site-packages" / "esptool" / "targets" / "stub_flasher";
    scoped_env home_env("HOME", home.string());
    scoped_env venv("VIRTUAL_ENV", (fs::path(dir.path()) / "no-venv").string());
    scoped_env idf("IDF_PATH", (fs::path(dir.path()) / "no-idf").string());
    std::vector<std::string> notes;

    EXPECT_FALSE(stub_provider("none"));

    auto automatic = stub_provider("auto");
    ASSERT_TRUE(automatic);
    // A chip no esptool has a stub for, so that this machine's own esptool cannot answer.
    chip_info unknown = info(chip::esp32);
    unknown.name = "otaflash-test-chip";
    unknown.display_name = "TEST-CHIP";
    auto none = automatic(unknown, notes);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0], "no flasher stub for the TEST-CHIP found (install esptool or give --stub): the ROM does the work, "
                        "which is slower");
    notes.clear();
    write_at(installed / "1" / "esp32.json", good_json);
    ASSERT_FALSE(stub_search_dirs().empty());
    EXPECT_EQ(stub_search_dirs().front(), installed);
    auto found = automatic(info(chip::esp32), notes);
    ASSERT_TRUE(found && *found);
    EXPECT_EQ((*found)->source, (installed / "1" / "esp32.json").string());

    // A broken file is skipped with a note, and the next one is used.
    write_at(installed / "2" / "esp32.json", "{");
    notes.clear();
    auto skipped = automatic(info(chip::esp32), notes);
    ASSERT_TRUE(skipped && *skipped);
    EXPECT_EQ((*skipped)->source, (installed / "1" / "esp32.json").string());
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("skipped flasher stub"), std::string::npos) << notes[0];

    // A directory given by hand must hold the chip's file; a file given by hand must be good.
    auto by_dir = stub_provider(installed.string())(info(chip::esp32s3), notes);
    ASSERT_FALSE(by_dir);
    EXPECT_EQ(by_dir.error().code, errc::file_not_found);
    auto by_file = stub_provider((installed / "1" / "esp32.json").string())(info(chip::esp32s3), notes);
    ASSERT_TRUE(by_file && *by_file);
    auto broken = stub_provider(installed.string())(info(chip::esp32), notes);  // 2/ first, and broken
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().code, errc::config_invalid);
}
