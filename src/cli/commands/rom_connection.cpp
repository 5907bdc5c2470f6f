#include "cli/commands/rom_connection.hpp"

#include "cli/logging.hpp"
#include "cli/stub_files.hpp"

#include <otaflash/image/esp_image.hpp>
#include <otaflash/io/file.hpp>
#include <otaflash/serial/port.hpp>
#include <otaflash/util/hex.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>

namespace otaflash::cli {
namespace {
// esptool spells the same values with underscores (default_reset, hard_reset, no_reset).
std::string dashes(std::string value) {
    std::replace(value.begin(), value.end(), '_', '-');
    return value;
}
}  // namespace

CLI::Option* add_rom_connection_options(CLI::App* sub, rom_connection_args& args, bool port_required) {
    const char* group = "Connection";
    CLI::Option* port =
        sub->add_option("-p,--port", args.port,
                        port_required
                            ? "Serial port (/dev/ttyUSB0), rfc2217://HOST:PORT or socket://HOST:PORT"
                            : "Compare with the flash of the device on this port (/dev/ttyUSB0, rfc2217://HOST:PORT, "
                              "socket://HOST:PORT)")
            ->group(group);
    if (port_required) port->envname("OTAFLASH_PORT")->required();
    sub->add_option("-b,--baud", args.baud,
                    "Baud rate after connecting at 115200; the ESP8266 ROM stays at 115200")
        ->envname("OTAFLASH_BAUD")
        ->default_str("921600")
        ->group(group);
    sub->add_option("--before", args.before,
                    "Before connecting: default (DTR/RTS reset into the bootloader), usb-reset (the chip's own "
                    "USB-Serial/JTAG), no-reset; esptool's default_reset, usb_reset, no_reset and "
                    "no_reset_no_sync (taken as no-reset) too")
        ->check(CLI::IsMember({"default", "default-reset", "usb-reset", "no-reset", "no-reset-no-sync"}, dashes))
        ->default_str("default")
        ->group(group);
    sub->add_option("--after", args.after,
                    "Afterwards: hard-reset (pulse EN via RTS; without modem lines the ROM starts the application), "
                    "soft-reset (the ROM starts the application), no-reset (stay in the bootloader); esptool's "
                    "hard_reset, soft_reset, no_reset too")
        ->check(CLI::IsMember({"hard-reset", "soft-reset", "no-reset"}, dashes))
        ->default_str("hard-reset")
        ->group(group);
    sub->add_option("--reset-sequence", args.reset_sequence,
                    "Custom DTR/RTS sequence for --before, in esptool's syntax: D0|R1|W0.1|D1|R0|W0.05|D0")
        ->group(group);
    sub->add_option("--connect-attempts", args.connect_attempts, "Reset + SYNC rounds before giving up")
        ->default_str("7")
        ->check(CLI::Range(1, 1000))
        ->group(group);
    sub->add_option("--flash-size", args.flash_size,
                    "Flash size (4MB, 16MB, 0x400000); otherwise (or with esptool's detect or keep) what the flash "
                    "chip reports, else the image header")
        ->group(group);
    sub->add_option("--stub", args.stub,
                    "esptool's flasher stub: auto (look where pip, PlatformIO and ESP-IDF install esptool), none "
                    "(the ROM does the work), a stub .json file or esptool's stub_flasher directory")
        ->envname("OTAFLASH_STUB")
        ->default_str("auto")
        ->group(group);
    return port;
}

result<void> fill_session_request(const rom_connection_args& args, const chip_info* expected_chip,
                                  rom::session_request& request) {
    request.expected_chip = expected_chip;
    if (args.baud < 9600 || args.baud > 4'000'000)
        return make_failure(errc::usage_error, "--baud " + std::to_string(args.baud) + " is out of range",
                            "use a rate between 9600 and 4000000, e.g. 921600 or 460800");
    const bool network = serial::kind_of(args.port) == serial::port_kind::socket;
    // A raw socket carries bytes only: the server's serial port keeps its rate whatever the ROM is
    // told, so the session stays at the rate it synced at.
    request.baud = network ? std::min<std::uint32_t>(rom::rom_initial_baud, args.baud) : args.baud;
    // no-reset-no-sync (esptool: the loader already listens) still syncs: a listening loader answers.
    rom::before_reset before = args.before == "usb-reset"                                  ? rom::before_reset::usb_reset
                               : args.before == "no-reset" || args.before == "no-reset-no-sync" ? rom::before_reset::no_reset
                                                           : rom::before_reset::default_reset;
    if (!args.reset_sequence.empty()) {
        auto custom = rom::parse_reset_sequence(args.reset_sequence);
        if (!custom) return std::move(custom).error();
        request.connect.strategies = {*custom};
    } else {
        // A raw socket has no modem lines: resetting through it is not possible (esptool agrees).
        request.connect.strategies = rom::connect_strategies(network ? rom::before_reset::no_reset : before);
    }
    request.usb = before == rom::before_reset::usb_reset;
    request.connect.attempts = args.connect_attempts;
    const std::uint32_t first = std::min<std::uint32_t>(rom::rom_initial_baud, args.baud);
    request.connect.rates = {first};
    if (request.baud != first) request.connect.rates.push_back(request.baud);
    request.after = args.after == "soft-reset" ? rom::after_action::soft_reset
                    : args.after == "no-reset" ? rom::after_action::no_reset
                                               : rom::after_action::hard_reset;
    // esptool's detect and keep: otaflash never rewrites an image header, so both mean "as detected".
    if (!args.flash_size.empty() && args.flash_size != "detect" && args.flash_size != "keep") {
        auto size = rom::parse_flash_size(args.flash_size);
        if (!size)
            return make_failure(errc::usage_error, "--flash-size '" + args.flash_size + "' is not a size",
                                "write it as 4MB, 512KB or 0x400000");
        request.flash_size = size;
    }
    request.stub_for = stub_provider(args.stub);
    return {};
}

namespace {
std::optional<std::uint32_t> parse_offset(const std::string& text) {
    std::string_view digits = text;
    int base = 10;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        digits.remove_prefix(2);
        base = 16;
    }
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}
}  // namespace

result<std::vector<rom::region_input>> read_regions(const std::vector<std::string>& items) {
    std::vector<std::pair<std::uint32_t, std::string>> pairs;
    if (items.size() == 1) {
        pairs.emplace_back(0, items[0]);
    } else if (items.size() % 2 == 0 && !items.empty()) {
        for (std::size_t i = 0; i < items.size(); i += 2) {
            auto offset = parse_offset(items[i]);
            if (!offset)
                return make_failure(errc::usage_error, "'" + items[i] + "' is not a flash offset",
                                    "give IMAGE alone (written at 0x0) or pairs of OFFSET IMAGE, e.g. 0x10000 app.bin");
            pairs.emplace_back(*offset, items[i + 1]);
        }
    } else {
        return make_failure(errc::usage_error,
                            "expected IMAGE or pairs of OFFSET IMAGE, got " + std::to_string(items.size()) + " arguments",
                            "e.g. otaflash serial -p /dev/ttyUSB0 0x1000 bootloader.bin 0x8000 partitions.bin 0x10000 app.bin");
    }
    std::vector<rom::region_input> regions;
    for (auto& [offset, path] : pairs) {
        auto data = read_file(path, false, rom::rom_flash_limit);
        if (!data) return std::move(data).error();
        regions.push_back({offset, std::move(*data), path});
    }
    return regions;
}

void warn_about_port(reporter& out, const rom_connection_args& args) {
    if (serial::kind_of(args.port) != serial::port_kind::socket) return;
    out.warn(args.port + " carries bytes only: otaflash cannot reset the chip through it (put it in download mode "
                         "yourself) and stays at " + std::to_string(std::min<std::uint32_t>(rom::rom_initial_baud, args.baud)) +
             " baud (use rfc2217:// for both)");
}

result<std::unique_ptr<rom::port>> open_rom_port(const rom_connection_args& args) {
    serial::port_options options;
    options.baud = std::min<std::uint32_t>(rom::rom_initial_baud, args.baud);
    return serial::open_port(args.port, options, cli_log());
}

std::string duration_text(rom::duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms < 1000) return std::to_string(ms) + " ms";
    return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

nlohmann::json session_json(const rom::session_report& report) {
    nlohmann::json j = {{"port", report.port}, {"chip", nullptr}, {"baud", nullptr}, {"flash_size", nullptr}};
    if (report.link) {
        j["connect"] = {{"attempts", report.link->attempts}, {"reset", report.link->reset}, {"baud", report.link->baud}};
        if (report.link->reset != "none") j["connect"]["modem_lines"] = report.link->modem_lines;
    }
    if (report.chip) {
        j["chip"] = name(report.chip->chip->id);
        j["chip_detected_by"] = report.chip->how;
        if (report.chip->security)
            j["secure_download_mode"] = report.chip->security->secure_download_mode();
        const auto& fuses = report.chip->fuses;
        j["mac"] = fuses ? nlohmann::json(format_mac(fuses->mac)) : nlohmann::json(nullptr);
        j["chip_revision"] = fuses && fuses->revision ? nlohmann::json(image::format_revision(fuses->revision->full()))
                                                      : nlohmann::json(nullptr);
    }
    if (report.baud) j["baud"] = report.baud->rate;
    j["stub"] = report.stub.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.stub);
    if (report.flash_size) {
        j["flash_size"] = *report.flash_size;
        j["flash_size_source"] = report.flash_size_source;
    }
    if (!report.after.empty()) j["after"] = report.after;
    return j;
}

std::string session_line(const rom::session_report& report) {
    if (!report.chip) return {};
    std::string line = std::string(report.chip->chip->display_name) + " on " + report.port + " (" + report.chip->how + ")";
    if (const auto& fuses = report.chip->fuses) {
        if (fuses->revision) line += ", revision " + image::format_revision(fuses->revision->full());
        line += ", MAC " + format_mac(fuses->mac);
    }
    if (report.baud) line += ", " + std::to_string(report.baud->rate) + " baud";
    line += report.stub.empty() ? ", ROM loader" : ", flasher stub " + report.stub;
    return line;
}

}  // namespace otaflash::cli
