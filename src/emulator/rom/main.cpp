// otaflash-rom-device: an emulated ESP8266 / ESP32-family ROM serial bootloader on a
// pseudo-terminal, for tests and for users who test their own flashing pipelines.

#include "device.hpp"
#include "options.hpp"

#include "cli/exit_codes.hpp"

#include <otaflash/version.hpp>

#include <cstdio>
#include <string>

using namespace otaflash;
using namespace otaflash::emulator::rom;

namespace {

std::string json_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

void print_line(const std::string& json) {
    std::fputs(json.c_str(), stdout);
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
    json_events(const rom_chip& chip, std::size_t flash_size, boot_mode boot)
        : chip_(chip), flash_size_(flash_size), boot_(boot) {}

    void ready(const std::string& pty, std::optional<std::uint16_t> rfc2217) override {
        print_line("{\"event\":\"ready\",\"chip\":" + json_string(chip_.name()) + ",\"pty\":" + json_string(pty) +
                   ",\"rfc2217\":" + (rfc2217 ? std::to_string(*rfc2217) : "null") +
                   ",\"flash_size\":" + std::to_string(flash_size_) + ",\"boot\":" + mode_name(boot_) + "}");
    }

    void event(const rom_event& e) override {
        switch (e.what) {
        case rom_event::kind::flash_written:
            print_line("{\"event\":\"flash_written\",\"offset\":" + std::to_string(e.offset) + ",\"size\":" +
                       std::to_string(e.size) + ",\"md5\":" + json_string(e.md5) +
                       ",\"compressed\":" + (e.compressed ? "true" : "false") + "}");
            break;
        case rom_event::kind::flash_end:
            print_line("{\"event\":\"flash_end\",\"offset\":" + std::to_string(e.offset) + ",\"size\":" +
                       std::to_string(e.size) + ",\"md5\":" + json_string(e.md5) +
                       ",\"reboot\":" + (e.reboot ? "true" : "false") + "}");
            break;
        case rom_event::kind::booted:
            print_line("{\"event\":\"boot\",\"mode\":" + mode_name(e.mode) + ",\"reason\":" + json_string(e.reason) + "}");
            break;
        case rom_event::kind::baud_changed:
            print_line("{\"event\":\"baud\",\"baud\":" + std::to_string(e.value) + "}");
            break;
        case rom_event::kind::ram_exec:
            print_line("{\"event\":\"ram_exec\",\"entry\":" + std::to_string(e.value) + "}");
            break;
        }
    }

    void dump_failed(const failure& f) override {
        print_line("{\"event\":\"error\",\"code\":" + json_string(code_name(f.code)) +
                   ",\"message\":" + json_string(f.message) + "}");
        std::fprintf(stderr, "otaflash-rom-device: error: %s (%s)\n", f.message.c_str(), f.hint.c_str());
    }

private:
    static std::string mode_name(boot_mode m) { return m == boot_mode::download ? "\"download\"" : "\"app\""; }
    const rom_chip& chip_;
    std::size_t flash_size_;
    boot_mode boot_;
};

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_options(argc, argv);
    if (!parsed) {
        const auto& f = parsed.error();
        std::fprintf(stderr, "otaflash-rom-device: error: %s\n", f.message.c_str());
        if (!f.hint.empty()) std::fprintf(stderr, "  hint: %s\n", f.hint.c_str());
        return cli::exit_code_for(f.code);
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
    json_events events(emulated_chip(cmd.device.rom.chip), cmd.device.initial_flash.size(), cmd.device.boot);
    device dev(std::move(cmd.device), events, log);
    if (auto opened = dev.open(); !opened) {
        const auto& f = opened.error();
        std::fprintf(stderr, "otaflash-rom-device: error: %s\n  hint: %s\n", f.message.c_str(), f.hint.c_str());
        return cli::exit_code_for(f.code);
    }
    dev.run();
    return 0;
}
