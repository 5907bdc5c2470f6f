// otaflash-rom-device: an emulated ESP8266 / ESP32-family ROM serial bootloader on a
// pseudo-terminal, for tests and for users who test their own flashing pipelines.

#include "device.hpp"
#include "options.hpp"

#include <otaflash/exit_codes.hpp>
#include <otaflash/image/esp_image.hpp>
#include <otaflash/version.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

using namespace otaflash;
using namespace otaflash::emulator::rom;

namespace {

using json = nlohmann::ordered_json;

// One JSON Lines event on stdout. Texts from outside (paths, messages) are not always UTF-8:
// replace, never throw.
void print_line(const json& event) {
    std::fputs(event.dump(-1, ' ', false, json::error_handler_t::replace).c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

class stderr_log final : public log_sink {
public:
    explicit stderr_log(log_level threshold) : threshold_(threshold) {}
    bool enabled(log_level level) const override { return level >= threshold_; }
    void write(log_level level, std::string_view message) override {
        static constexpr const char* names[] = {"trace", "debug", "info", "warn", "error"};
        std::fprintf(stderr, "otaflash-rom-device: %s: %.*s\n", names[static_cast<int>(level)],
                     static_cast<int>(message.size()), message.data());
    }

private:
    log_level threshold_;
};

class json_events final : public device_observer {
public:
    json_events(const rom_chip& chip, std::size_t flash_size, boot_mode boot, const rom_config& rom)
        : chip_(chip), flash_size_(flash_size), boot_(boot), mac_(format_mac(rom.mac)) {
        if (!chip.esp8266()) revision_ = image::format_revision(rom.revision.value_or(chip.revision).full());
    }

    void ready(const std::string& pty, std::optional<std::uint16_t> rfc2217) override {
        print_line({{"event", "ready"},
                    {"chip", std::string(chip_.name())},
                    {"pty", pty},
                    {"rfc2217", rfc2217 ? json(*rfc2217) : json(nullptr)},
                    {"flash_size", flash_size_},
                    {"boot", mode_name(boot_)},
                    {"mac", mac_},
                    {"chip_revision", revision_.empty() ? json(nullptr) : json(revision_)}});
    }

    void event(const rom_event& e) override {
        switch (e.what) {
        case rom_event::kind::flash_written:
            print_line({{"event", "flash_written"}, {"offset", e.offset}, {"size", e.size}, {"md5", e.md5},
                        {"compressed", e.compressed}});
            break;
        case rom_event::kind::flash_end:
            print_line({{"event", "flash_end"}, {"offset", e.offset}, {"size", e.size}, {"md5", e.md5},
                        {"reboot", e.reboot}});
            break;
        case rom_event::kind::booted:
            print_line({{"event", "boot"}, {"mode", mode_name(e.mode)}, {"reason", e.reason}});
            break;
        case rom_event::kind::baud_changed: print_line({{"event", "baud"}, {"baud", e.value}}); break;
        case rom_event::kind::ram_exec: print_line({{"event", "ram_exec"}, {"entry", e.value}}); break;
        case rom_event::kind::stub_started: print_line({{"event", "stub_started"}, {"entry", e.value}}); break;
        }
    }

    void dump_failed(const failure& f) override {
        print_line({{"event", "error"}, {"code", std::string(code_name(f.code))}, {"message", f.message}});
        std::fprintf(stderr, "otaflash-rom-device: error: %s (%s)\n", f.message.c_str(), f.hint.c_str());
    }

private:
    static const char* mode_name(boot_mode m) { return m == boot_mode::download ? "download" : "app"; }
    const rom_chip& chip_;
    std::size_t flash_size_;
    boot_mode boot_;
    std::string mac_, revision_;
};

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_options(argc, argv);
    if (!parsed) {
        const auto& f = parsed.error();
        std::fprintf(stderr, "otaflash-rom-device: error: %s\n", f.message.c_str());
        if (!f.hint.empty()) std::fprintf(stderr, "  hint: %s\n", f.hint.c_str());
        return exit_code_for(f.code);
    }
    auto& cmd = *parsed;
    if (cmd.show_help) {
        std::fputs(help_text().c_str(), stdout);
        return 0;
    }
    if (cmd.show_version) {
        std::printf("otaflash-rom-device %s\n", otaflash::version);
        return 0;
    }

    stderr_log log(cmd.log_threshold);
    json_events events(emulated_chip(cmd.device.rom.chip), cmd.device.initial_flash.size(), cmd.device.boot,
                       cmd.device.rom);
    device dev(std::move(cmd.device), events, log);
    if (auto opened = dev.open(); !opened) {
        const auto& f = opened.error();
        std::fprintf(stderr, "otaflash-rom-device: error: %s\n  hint: %s\n", f.message.c_str(), f.hint.c_str());
        return exit_code_for(f.code);
    }
    dev.run();
    return 0;
}
