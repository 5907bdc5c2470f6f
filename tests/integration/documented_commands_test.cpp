// Command lines as the documents print them, run against otaflash-rom-device: the man page's
// serial example word for word (only the port and file names replaced), and esptool command lines
// pasted from esptool's documentation and idf.py's output with `esptool.py` replaced by otaflash.

#include <fixtures.hpp>
#include <image_builder.hpp>
#include <rom_device_process.hpp>
#include <subprocess.hpp>

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

using namespace otaflash;
using namespace otaflash::test;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> fast_flash = {"--erase-rate", "0", "--block-erase-rate", "0", "--write-rate", "0",
                                             "--read-rate", "0"};

std::string man_page() {
    auto raw = slurp(std::string{OTAFLASH_SOURCE_DIR} + "/man/otaflash.1");
    return std::string(raw.begin(), raw.end());
}

// The lines of the .nf/.fi block after the paragraph that starts with `lead`, as plain text.
std::vector<std::string> example_after(const std::string& man, const std::string& lead) {
    auto at = man.find("\n" + lead);
    if (at == std::string::npos) return {};
    auto begin = man.find("\n.nf\n", at);
    auto end = man.find("\n.fi", begin);
    std::istringstream block(man.substr(begin + 5, end - begin - 5));
    std::vector<std::string> lines;
    bool continued = false;  // the previous line ended in a backslash
    for (std::string line; std::getline(block, line);) {
        line = std::regex_replace(std::regex_replace(line, std::regex(R"(\\-)"), "-"), std::regex(R"(\\e)"), "\\");
        if (continued) lines.back() += " " + line;
        else lines.push_back(line);
        continued = !lines.back().empty() && lines.back().back() == '\\';
        if (continued) lines.back().pop_back();
    }
    return lines;
}

std::vector<std::string> words_of(const std::string& line, const std::map<std::string, std::string>& replace) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) {
        auto it = replace.find(w);
        out.push_back(it == replace.end() ? w : it->second);
    }
    return out;
}

process_result run_words(std::vector<std::string> words) {
    EXPECT_TRUE(!words.empty() && (words[0] == "otaflash" || words[0] == "esptool.py" || words[0] == "esptool"))
        << "not a command line: " << (words.empty() ? "" : words[0]);
    words[0] = bin_path("otaflash");
    process_options options;
    options.env = {{"CI", "true"}, {"NO_COLOR", "1"}, {"OTAFLASH_STUB", "none"}};
    options.unset_env = {"OTAFLASH_PORT", "OTAFLASH_BAUD", "OTAFLASH_CHIP"};
    options.timeout = 60s;
    return run_process(words, options);
}

struct emulated_esp32 {
    temp_dir dir;
    rom_device_process proc;
    std::string rfc2217;
    explicit emulated_esp32(std::vector<std::string> extra)
        : proc([&] {
              std::vector<std::string> args{"--chip", "esp32", "--flash-file", dir.file("flash.bin")};
              args.insert(args.end(), fast_flash.begin(), fast_flash.end());
              args.insert(args.end(), extra.begin(), extra.end());
              return args;
          }()) {
        if (proc.ready.at("rfc2217").is_number())
            rfc2217 = "rfc2217://127.0.0.1:" + std::to_string(proc.ready.at("rfc2217").get<int>());
    }
    bytes flash() {
        proc.stop();
        return slurp(dir.file("flash.bin"));
    }
};

bool holds(const bytes& flash, std::uint32_t offset, const bytes& data) {
    return flash.size() >= offset + data.size() && std::equal(data.begin(), data.end(), flash.begin() + offset);
}

}  // namespace

// Runs the commands of otaflash(1)'s example after `lead` against an emulated ESP32 over RFC 2217
// (a board on a USB serial adapter has DTR/RTS; the emulator has them there), with the page's port
// and file names replaced; each must exit 0 and the application must be in the flash.
static void expect_man_example_works(const std::string& lead, std::size_t commands, std::vector<std::string> device_options) {
    device_options.insert(device_options.end(), {"--rfc2217", "0"});
    emulated_esp32 dev(device_options);
    ASSERT_FALSE(dev.rfc2217.empty());
    temp_dir files;
    const bytes app = read_fixture_image("helloworld-esp32.bin");
    const std::map<std::string, std::string> replace = {
        {"/dev/ttyUSB0", dev.rfc2217},
        {"bootloader.bin", fixture_image("bootloader_esp32.bin")},
        {"partitions.bin", files.write("partitions.bin", build_partition_table(default_partitions()))},
        {"app.bin", files.write("app.bin", app)},
    };
    auto lines = example_after(man_page(), lead);
    ASSERT_EQ(lines.size(), commands) << lead;
    for (const auto& line : lines) {
        auto r = run_words(words_of(line, replace));
        EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.out << r.err;
    }
    EXPECT_TRUE(holds(dev.flash(), 0x10000, app));
}

// "Flash a bootloader, partition table and application, then check the device": the first command
// ends with a hard reset (the application runs); the second must get the chip back into its
// bootloader by itself, as esptool's verify_flash does.
TEST(DocumentedCommands, ManPageSerialExampleWorksAsWritten) {
    expect_man_example_works("Flash a bootloader, partition table and application, then check the device", 2, {});
}

// "A command line pasted from esptool's documentation or from idf.py's output", on a chip that
// runs its application.
TEST(DocumentedCommands, ManPageEsptoolExampleWorksAsWritten) {
    expect_man_example_works("A command line pasted from esptool's documentation", 1, {"--boot", "app"});
}

// Pasted from esptool's documentation (v4 "esptool.py --port COM4 write_flash 0x1000 ..."; v5
// "esptool --port COM4 write-flash ...") and from idf.py's "To flash all build output, run ...".
TEST(DocumentedCommands, EsptoolCommandLinesRunAsTheyAre) {
    emulated_esp32 dev({"--rfc2217", "0", "--boot", "app"});
    temp_dir files;
    const bytes app = read_fixture_image("helloworld-esp32.bin");
    const bytes boot = read_fixture_image("bootloader_esp32.bin");
    const std::map<std::string, std::string> replace = {
        {"PORT", dev.rfc2217}, {"COM4", dev.rfc2217}, {"my_app-0x01000.bin", files.write("app.bin", app)},
        {"build/bootloader/bootloader.bin", files.write("boot.bin", boot)}, {"build/hello_world.bin", files.file("app.bin")}};
    for (const std::string line :
         {"esptool.py --port COM4 write_flash 0x10000 my_app-0x01000.bin",
          "esptool --port COM4 write-flash 0x10000 my_app-0x01000.bin",
          "esptool.py -p PORT -b 460800 --before default_reset --after hard_reset --chip esp32 write_flash "
          "--flash_mode keep --flash_freq keep --flash_size detect 0x1000 build/bootloader/bootloader.bin "
          "0x10000 build/hello_world.bin",
          "esptool.py --chip esp32 -p PORT --before=default_reset --after=no_reset write_flash -z --flash_size keep "
          "0x10000 my_app-0x01000.bin",
          "esptool.py -p PORT --before no_reset_no_sync --after hard_reset verify_flash 0x10000 my_app-0x01000.bin"}) {
        auto r = run_words(words_of(line, replace));
        EXPECT_EQ(r.exit_code, 0) << line << "\n" << r.out << r.err;
    }
    auto flash = dev.flash();
    EXPECT_TRUE(holds(flash, 0x1000, boot));
    EXPECT_TRUE(holds(flash, 0x10000, app));
}
