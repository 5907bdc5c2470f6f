#include "options.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/image/esp_image.hpp>

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <iterator>
#include <string_view>

namespace otaflash::emulator::rom {
namespace {

constexpr std::size_t default_flash_size = 4u << 20;
constexpr std::size_t min_flash_size = 256u << 10;
constexpr std::size_t max_flash_size = 128u << 20;

failure usage(std::string message, std::string hint = "see otaflash-rom-device --help") {
    return make_failure(errc::usage_error, std::move(message), std::move(hint));
}

// Decimal or 0x hex, with an optional K/M suffix (KiB/MiB, also accepted as KB/MB or k/m).
std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::uint64_t scale = 1;
    for (std::string_view suffix : {"KiB", "KB", "K", "k"})
        if (text.size() > suffix.size() && text.ends_with(suffix)) { scale = 1024; text.remove_suffix(suffix.size()); break; }
    if (scale == 1)
        for (std::string_view suffix : {"MiB", "MB", "M", "m"})
            if (text.size() > suffix.size() && text.ends_with(suffix)) { scale = 1024 * 1024; text.remove_suffix(suffix.size()); break; }
    int base = 10;
    if (text.size() > 2 && (text.starts_with("0x") || text.starts_with("0X"))) { text.remove_prefix(2); base = 16; }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value * scale;
}

std::optional<double> parse_rate(std::string_view text) {
    auto n = parse_size(text);
    if (!n) return std::nullopt;
    return static_cast<double>(*n);
}

}  // namespace

std::string help_text() {
    return R"(otaflash-rom-device: an emulated ESP8266 / ESP32-family ROM serial bootloader on a
pseudo-terminal, for testing flashing tools and pipelines without hardware.

Usage: otaflash-rom-device [options]

It opens a pseudo-terminal, prints {"event":"ready",...,"pty":"/dev/pts/N"} on stdout and serves
the ROM bootloader protocol there until SIGINT/SIGTERM (then it dumps the flash and exits 0).
Events are JSON Lines on stdout; logs go to stderr.

Device:
  --chip NAME            esp8266, esp32, esp32s2, esp32s3 or esp32c3 (default esp32)
  --flash-size BYTES     flash size, a power of two from 256K to 128M (default 4M; K/M suffixes)
  --load FILE            initial flash contents (default: all 0xFF); a shorter file is padded
  --flash-file FILE      dump the flash here (atomically) after each completed write, at
                         FLASH_END, on every reset and at exit
  --boot MODE            download (default: strapped for download) or app (runs the
                         application: prints its log, ignores the protocol)
  --mac MAC              the factory MAC in the eFuses (ESP8266: OTP) where esptool and
                         otaflash read it (default: the chip's Espressif OUI, then the
                         process id, so emulators running side by side differ)
  --chip-revision M.N    the silicon revision in the eFuses (default: ESP32 v3.0,
                         ESP32-S2 v1.0, ESP32-S3 v0.2, ESP32-C3 v0.4; none on ESP8266)
  --rfc2217 PORT         also serve the ROM over RFC 2217 on 127.0.0.1:PORT (0 = any free
                         port, printed in the ready event); DTR/RTS there drive EN and GPIO0
                         through the usual two-transistor auto-reset circuit

Timing (computed by the model, applied with timers):
  --no-wire-delay        bytes cross the wire instantly (default: 10 bit times per byte at
                         the line's baud rate, both directions)
  The flash defaults are the typical figures of a Winbond W25Q32JV (datasheet AC
  characteristics); 0 makes any of them instant:
  --erase-rate B/S       4 KiB sector erase speed, bytes per second (default 91022: 45 ms
                         per sector)
  --block-erase-rate B/S 64 KiB block erase speed (default 436906: 150 ms per block)
  --write-rate B/S       page program speed (default 640000: 0.4 ms per 256-byte page)
  --read-rate B/S        flash read speed for SPI_FLASH_MD5 / READ_FLASH_SLOW / READ_FLASH
                         (default 2M)
  The ROM erases a FLASH_BEGIN range before it answers (sectors up to a 64 KiB boundary,
  then blocks while 16 sectors remain, then sectors) and programs each block before its
  reply; a flasher stub erases as its writes reach unerased flash and programs a block
  while the next one arrives.

Uploaded code (MEM_BEGIN / MEM_DATA / MEM_END, at most 512 KiB):
  --ram-code MODE        stub (default): MEM_END(0, entry) with the entry inside the upload
                         starts a flasher stub: it sends OHAI (C0 4F 48 41 49 C0) ~3 ms
                         after the MEM_END reply and then speaks esptool's stub protocol
                         (2 status bytes, 16 KiB blocks, deflate, raw MD5, ERASE_FLASH,
                         ERASE_REGION, READ_FLASH, CHANGE_BAUDRATE on every chip) until a
                         reset or FLASH_END(0); an entry outside the upload goes quiet.
                         quiet: uploaded code never talks (until a reset)

Faults (--fault, repeatable):
  no-sync                      never answers SYNC
  boot-noise                   prints a boot log and junk text before the first SYNC reply
  garbage                      puts junk bytes (never 0xC0) before every reply frame
  status-error-on-block=N      data block with sequence number N (0-based) always fails (0x08)
  status-error-once-on-block=N ... fails only the first time it arrives
  silent-after-block=N         answers block N, then nothing at all until a reset
  slow-flash                   erase and program 10x slower
  flip-byte=OFFSET             the flash byte at OFFSET reads back inverted after it is written
                               (the ROM's own read-back check passes; MD5 verification fails)

Other:
  --seed N               seed of the junk bytes (default fixed, so runs repeat)
  -v, --verbose          log every command (debug) on stderr
  -q, --quiet            log only warnings and errors
  -h, --help             this text
  --version              print the version

Exit status: 0 after SIGINT/SIGTERM, 2 bad usage, 4 unreadable --load file, 9 no pty or port.
)";
}

result<command_line> parse_options(int argc, const char* const* argv) {
    command_line cmd;
    std::size_t flash_size = default_flash_size;
    std::string load_file;
    std::optional<mac_address> mac;
    auto& dev = cmd.device;

    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::optional<std::string_view> inline_value;
        if (arg.starts_with("--") && arg.find('=') != std::string_view::npos) {
            inline_value = arg.substr(arg.find('=') + 1);
            arg = arg.substr(0, arg.find('='));
        }
        static constexpr std::string_view with_value[] = {"--chip", "--flash-size", "--flash-file", "--load",
                                                           "--boot", "--rfc2217", "--erase-rate", "--block-erase-rate",
                                                           "--write-rate", "--read-rate", "--fault", "--seed",
                                                           "--ram-code", "--mac", "--chip-revision"};
        std::string_view v;
        if (std::find(std::begin(with_value), std::end(with_value), arg) != std::end(with_value)) {
            if (inline_value) v = *inline_value;
            else if (i + 1 < argc) v = argv[++i];
            else return usage(std::string(arg) + " needs a value");
        } else if (inline_value) {
            return usage(std::string(arg) + " takes no value");
        }

        if (arg == "-h" || arg == "--help") {
            cmd.show_help = true;
            return cmd;
        } else if (arg == "--version") {
            cmd.show_version = true;
            return cmd;
        } else if (arg == "-v" || arg == "--verbose") {
            cmd.log_threshold = log_level::debug;
        } else if (arg == "-q" || arg == "--quiet") {
            cmd.log_threshold = log_level::warn;
        } else if (arg == "--chip") {
            auto chip = emulated_chip_named(v);
            if (!chip) return usage("unknown chip '" + std::string(v) + "'", "use esp8266, esp32, esp32s2, esp32s3 or esp32c3");
            dev.rom.chip = *chip;
        } else if (arg == "--flash-size") {
            auto n = parse_size(v);
            if (!n || !std::has_single_bit(*n) || *n < min_flash_size || *n > max_flash_size)
                return usage("bad --flash-size '" + std::string(v) + "'",
                             "give a power of two from 256K to 128M, e.g. 4M or 4194304");
            flash_size = static_cast<std::size_t>(*n);
        } else if (arg == "--flash-file") {
            dev.flash_file = std::string(v);
        } else if (arg == "--load") {
            load_file = std::string(v);
        } else if (arg == "--boot") {
            if (v == "download") dev.boot = boot_mode::download;
            else if (v == "app") dev.boot = boot_mode::app;
            else return usage("bad --boot '" + std::string(v) + "'", "use download or app");
        } else if (arg == "--rfc2217") {
            auto n = parse_size(v);
            if (!n || *n > 65535 || v.find_first_not_of("0123456789") != std::string_view::npos)
                return usage("bad --rfc2217 port '" + std::string(v) + "'", "give a TCP port number, 0 for any free one");
            dev.rfc2217_port = static_cast<std::uint16_t>(*n);
        } else if (arg == "--no-wire-delay") {
            dev.rom.speeds.wire_delay = false;
        } else if (arg == "--erase-rate" || arg == "--block-erase-rate" || arg == "--write-rate" || arg == "--read-rate") {
            auto rate = parse_rate(v);
            if (!rate) return usage("bad " + std::string(arg) + " '" + std::string(v) + "'", "give bytes per second, 0 for instant");
            auto& speeds = dev.rom.speeds;
            (arg == "--erase-rate"         ? speeds.erase_bytes_per_s
             : arg == "--block-erase-rate" ? speeds.block_erase_bytes_per_s
             : arg == "--write-rate"       ? speeds.write_bytes_per_s
                                           : speeds.read_bytes_per_s) = *rate;
        } else if (arg == "--ram-code") {
            if (v == "stub") dev.rom.uploaded = ram_code::stub;
            else if (v == "quiet") dev.rom.uploaded = ram_code::quiet;
            else return usage("bad --ram-code '" + std::string(v) + "'", "use stub or quiet");
        } else if (arg == "--fault") {
            if (auto added = add_fault(v, dev.rom.faults); !added) return added.error();
        } else if (arg == "--mac") {
            mac = parse_mac(v);
            if (!mac) return usage("bad --mac '" + std::string(v) + "'", "write six bytes, e.g. 24:0A:C4:12:34:56");
        } else if (arg == "--chip-revision") {
            dev.rom.revision = parse_revision(v);
            if (!dev.rom.revision) return usage("bad --chip-revision '" + std::string(v) + "'", "write MAJOR.MINOR, e.g. 3.0");
        } else if (arg == "--seed") {
            auto n = parse_size(v);
            if (!n || *n > 0xFFFFFFFFu) return usage("bad --seed '" + std::string(v) + "'");
            dev.rom.seed = static_cast<std::uint32_t>(*n);
        } else {
            return usage("unknown option '" + std::string(argv[i]) + "'");
        }
    }

    if (dev.rom.revision) {
        const auto& chip = *emulated_chip(dev.rom.chip).info;
        const chip_revision top = max_revision(chip);
        if (top == chip_revision{})
            return usage("the " + std::string(chip.display_name) + " has no chip revision field", "drop --chip-revision");
        if (dev.rom.revision->major > top.major || dev.rom.revision->minor > top.minor)
            return usage("--chip-revision " + image::format_revision(dev.rom.revision->full()) + " does not fit the " +
                             std::string(chip.display_name) + "'s eFuse fields",
                         "the major revision goes up to " + std::to_string(top.major) + ", the minor up to " +
                             std::to_string(top.minor));
    }
    // Emulators started side by side (a fleet) must not share a MAC: the low three bytes are the
    // process id, unique among the processes running at once; the OUI is the chip's.
    if (mac) {
        dev.rom.mac = *mac;
    } else {
        const auto pid = static_cast<std::uint32_t>(::getpid());
        const std::uint32_t oui = emulated_chip(dev.rom.chip).oui;
        dev.rom.mac = {static_cast<std::uint8_t>(oui >> 16), static_cast<std::uint8_t>(oui >> 8),
                       static_cast<std::uint8_t>(oui),       static_cast<std::uint8_t>(pid >> 16),
                       static_cast<std::uint8_t>(pid >> 8),  static_cast<std::uint8_t>(pid)};
    }
    for (auto offset : dev.rom.faults.flip_bytes)
        if (offset >= flash_size)
            return usage("--fault flip-byte=" + std::to_string(offset) + " is beyond the " + std::to_string(flash_size) +
                         "-byte flash");
    dev.initial_flash.assign(flash_size, 0xFF);
    if (!load_file.empty()) {
        auto loaded = read_file(load_file, true, flash_size);
        if (!loaded) {
            auto f = loaded.error();
            if (f.code == errc::image_too_large)
                f = make_failure(errc::image_too_large, "--load " + load_file + " is larger than the " +
                                                            std::to_string(flash_size) + "-byte flash",
                                 "raise --flash-size");
            return f;
        }
        std::copy(loaded->begin(), loaded->end(), dev.initial_flash.begin());
    }
    return cmd;
}

}  // namespace otaflash::emulator::rom
