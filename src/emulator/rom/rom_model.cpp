#include "model_reply.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/proto/rom/command.hpp>
#include <otaflash/proto/rom/flash_id.hpp>
#include <otaflash/proto/rom/baud.hpp>
#include <otaflash/proto/rom/packet.hpp>
#include <otaflash/proto/rom/safety.hpp>
#include <otaflash/proto/rom/setup.hpp>
#include <otaflash/proto/rom/status.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <cmath>

namespace otaflash::emulator::rom {
namespace {

namespace proto = otaflash::rom;
using proto::opcode;

constexpr std::uint32_t sync_value = 0x20120707;
constexpr std::size_t sync_replies = 8;
constexpr std::uint32_t jedec_winbond = 0xEF;
constexpr std::uint32_t jedec_memory_type = 0x40;
// ESP32 ROM crystal-estimate registers (§6): these values make the ROM's estimate exactly 40 MHz,
// so a host's pre-skew of the CHANGE_BAUDRATE value is a no-op.
constexpr std::uint32_t esp32_rtc_cali_value = 1024u << 7;
constexpr std::uint32_t esp32_efuse_ck8m_value = 100;
constexpr std::chrono::seconds heartbeat_period{1};
// How long uploaded code takes to greet, and the stub's pause between its FLASH_END(0) reply and
// its software reset (§2.1: "waits 10 ms").
constexpr std::chrono::milliseconds stub_boot_delay{3};
constexpr std::chrono::milliseconds stub_reboot_delay{10};
// What the emulated RAM holds of uploaded code; more is refused as the ROM refuses a size that
// does not fit its RAM.
constexpr std::uint64_t ram_upload_limit = 512 * 1024;

std::string md5_hex(byte_view data) { return to_hex(md5(data)); }

rom_event make_event(rom_event::kind what) {
    rom_event e;
    e.what = what;
    return e;
}

}  // namespace

using namespace model_detail;

sector_range esp8266_rom_erase(std::uint32_t erase_size, std::uint32_t offset) noexcept {
    // Inferred from esptool's workaround (§4.2, §13): the ROM counts the sectors up to the next
    // 64 KiB boundary ("head") once for itself and once more inside the requested count.
    const std::uint32_t requested = proto::block_count(erase_size, proto::flash_sector_size);
    const std::uint32_t first = offset / proto::flash_sector_size;
    const std::uint32_t head = std::min<std::uint32_t>(16 - first % 16, requested);
    return {first, requested + head};
}

rom_model::rom_model(rom_config config, bytes initial_flash, log_sink& log)
    : config_(std::move(config)),
      chip_(emulated_chip(config_.chip)),
      identity_{config_.mac, config_.revision.value_or(chip_.revision)},
      flash_(std::move(initial_flash)),
      log_(log),
      rom_baud_(proto::rom_initial_baud),
      rom_flash_size_(initial_flash_size()),
      random_state_(config_.seed ? config_.seed : 1) {
    if (identity_.mac[0] == 0 && identity_.mac[1] == 0 && identity_.mac[2] == 0) {
        identity_.mac[0] = static_cast<std::uint8_t>(chip_.oui >> 16);
        identity_.mac[1] = static_cast<std::uint8_t>(chip_.oui >> 8);
        identity_.mac[2] = static_cast<std::uint8_t>(chip_.oui);
    }
    if (chip_.esp8266()) identity_.revision.reset();  // no such field
    for (const auto& w : encode_fuses(*chip_.info, identity_)) fuses_[w.address] = w.value;
}

rom_model::~rom_model() = default;

bool rom_model::rates_match(std::uint32_t a, std::uint32_t b) noexcept {
    // A UART tolerates a few per cent of mismatch between the two ends.
    const double hi = std::max(a, b), lo = std::min(a, b);
    return hi > 0 && (hi - lo) / hi <= 0.03;
}

std::uint32_t rom_model::next_random() {
    // xorshift32: repeatable junk, no global state
    std::uint32_t x = random_state_;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return random_state_ = x;
}

bytes rom_model::junk(std::size_t min, std::size_t max, bool printable) {
    const std::size_t n = min + next_random() % (max - min + 1);
    bytes out;
    while (out.size() < n) {
        const auto b = static_cast<std::uint8_t>(next_random());
        if (printable ? (b >= 0x20 && b < 0x7F) : b != otaflash::rom::slip::frame_end) out.push_back(b);
    }
    return out;
}

bytes rom_model::garble(byte_view data) {
    bytes out(data.size());
    for (auto& b : out) b = static_cast<std::uint8_t>(next_random());
    return out;
}

duration rom_model::wire_time(std::size_t size, std::uint32_t baud) const {
    if (!config_.speeds.wire_delay || baud == 0) return {};
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(static_cast<double>(size) * 10.0 / baud));
}

namespace {
duration at_rate(double bytes_count, double rate, bool slow) {
    if (rate <= 0) return {};
    const double seconds = bytes_count / rate * (slow ? 10.0 : 1.0);
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(seconds));
}
}  // namespace

duration rom_model::erase_time(erase_units units) const {
    const bool slow = config_.faults.slow_flash;
    return at_rate(static_cast<double>(units.sectors) * proto::flash_sector_size, config_.speeds.erase_bytes_per_s, slow) +
           at_rate(static_cast<double>(units.blocks) * sectors_per_block * proto::flash_sector_size,
                   config_.speeds.block_erase_bytes_per_s, slow);
}
duration rom_model::write_time(std::uint64_t size) const {
    return at_rate(static_cast<double>(size), config_.speeds.write_bytes_per_s, config_.faults.slow_flash);
}
duration rom_model::read_time(std::uint64_t size) const {
    return at_rate(static_cast<double>(size), config_.speeds.read_bytes_per_s, false);
}

void rom_model::emit(time_point ready, bytes data, std::uint32_t baud) {
    if (data.empty()) return;
    const time_point begin = std::max(ready, tx_clock_);
    tx_clock_ = begin + wire_time(data.size(), baud);
    output_.push_back({tx_clock_, std::move(data), baud});
}

std::vector<transmission> rom_model::take_output() { return std::exchange(output_, {}); }
std::vector<rom_event> rom_model::take_events() { return std::exchange(events_, {}); }

void rom_model::start(time_point now, boot_mode mode) {
    rx_clock_ = busy_until_ = tx_clock_ = now;
    strap_ = mode;
    mode_ = mode == boot_mode::download ? mode::download : mode::app;
    if (mode_ == mode::app) next_heartbeat_ = now + heartbeat_period;
}

void rom_model::reset_loader_state() {
    transfer_ = {};
    ram_.clear();
    stub_ = {};
    spi_attached_ = false;
    noise_sent_ = false;
    baud_locked_ = false;
    rom_baud_ = proto::rom_initial_baud;
    rom_flash_size_ = initial_flash_size();
    registers_.clear();
    decoder_.reset();
    next_heartbeat_.reset();
    heartbeats_ = 0;
}

void rom_model::hold_in_reset(time_point now) {
    reset_loader_state();
    mode_ = mode::in_reset;
    output_.clear();
    rx_clock_ = busy_until_ = tx_clock_ = now;
    if (log_.enabled(log_level::debug)) log_.write(log_level::debug, "EN low: chip held in reset");
}

void rom_model::boot(time_point now, boot_mode mode, std::string reason) {
    reset_loader_state();
    rx_clock_ = std::max(rx_clock_, now);
    busy_until_ = std::max(busy_until_, now);
    mode_ = mode == boot_mode::download ? mode::download : mode::app;
    const auto& banner = mode == boot_mode::download ? chip_.download_banner : chip_.app_banner;
    emit(now, bytes(banner.begin(), banner.end()), chip_.info->rom_boot_log_baud);
    if (mode_ == mode::app) next_heartbeat_ = tx_clock_ + heartbeat_period;
    auto e = make_event(rom_event::kind::booted);
    e.mode = mode;
    e.reason = std::move(reason);
    events_.push_back(std::move(e));
    if (log_.enabled(log_level::info))
        log_.write(log_level::info, std::string("booted into ") + (mode == boot_mode::download ? "download mode" : "the application") +
                                        " (" + events_.back().reason + ")");
}

std::optional<time_point> rom_model::next_wakeup() const noexcept {
    return mode_ == mode::app ? next_heartbeat_ : std::nullopt;
}

void rom_model::poll(time_point now) {
    while (mode_ == mode::app && next_heartbeat_ && *next_heartbeat_ <= now) {
        ++heartbeats_;
        const std::string line = "I (" + std::to_string(heartbeats_ * 1000) + ") app: running from flash, uptime " +
                                 std::to_string(heartbeats_) + " s\r\n";
        emit(*next_heartbeat_, bytes(line.begin(), line.end()), 115200);
        *next_heartbeat_ += heartbeat_period;
    }
}

void rom_model::receive(byte_view data, time_point now, std::uint32_t host_baud) {
    if (data.empty() || mode_ == mode::in_reset) return;
    if (host_baud == 0) host_baud = rom_baud_;  // the driver could not read the line's rate
    // Until CHANGE_BAUDRATE the ROM follows the host's rate (UART auto-baud on SYNC's 0x55 run);
    // the ESP8266 ROM does not manage that above 115200 (§6).
    if (mode_ == mode::download && !baud_locked_ && (!chip_.esp8266() || host_baud <= 115200 * 1.03))
        rom_baud_ = host_baud;
    const time_point begin = std::max(now, rx_clock_);
    rx_clock_ = begin + wire_time(data.size(), host_baud);
    if (mode_ != mode::download && mode_ != mode::stub) return;

    bytes garbled;
    byte_view in = data;
    if (!rates_match(host_baud, rom_baud_)) {
        garbled = garble(data);
        in = garbled;
        if (log_.enabled(log_level::debug))
            log_.write(log_level::debug, std::to_string(data.size()) + " bytes at " + std::to_string(host_baud) +
                                             " baud while the ROM listens at " + std::to_string(rom_baud_) + ": junk");
    }
    // Frames can only end at a C0, so feed up to each one and date the frames it completes.
    std::size_t from = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != otaflash::rom::slip::frame_end && i + 1 != in.size()) continue;
        otaflash::rom::slip::decoder::output out;
        decoder_.feed(in.subspan(from, i + 1 - from), out);
        from = i + 1;
        const time_point arrived = begin + wire_time(i + 1, host_baud);
        for (const auto& frame : out.frames) {
            if (mode_ != mode::download && mode_ != mode::stub) break;
            handle_frame(frame, arrived);
        }
    }
}

void rom_model::handle_frame(byte_view frame, time_point arrived) {
    if (mode_ == mode::stub && stub_.read) return stub_read_ack(frame, arrived);
    auto request = otaflash::rom::parse_request(frame);
    if (!request) {
        if (log_.enabled(log_level::debug))
            log_.write(log_level::debug, "ignored a " + std::to_string(frame.size()) + "-byte frame that is not a request");
        return;
    }
    const auto op = static_cast<opcode>(request->opcode);
    const bool stub = mode_ == mode::stub;
    const time_point start = std::max(arrived, busy_until_);
    request_time_ = start;
    reply r = stub ? dispatch_stub(request->opcode, request->checksum, request->data)
                   : dispatch(request->opcode, request->checksum, request->data);
    if (log_.enabled(log_level::debug)) {
        std::string line = std::string(stub ? "stub " : "") + "<- " + proto::opcode_name(request->opcode) + " (" +
                           hex32(request->opcode).substr(8) + ", " + std::to_string(request->data.size()) + " bytes) -> ";
        line += !r.send ? "no answer" : r.error ? "failed, error " + hex32(r.error).substr(8) : "ok";
        if (!r.note.empty()) line += ": " + r.note;
        log_.write(log_level::debug, line);
    }
    if (!r.send) return;
    const time_point replied = start + r.busy;
    busy_until_ = replied + r.background;

    // The stub leaves 0 in the value field (SYNC included: that is how a host tells it from the
    // ROM); the ESP8266 ROM leaves junk there (§1.3).
    if (stub && op != opcode::read_reg) r.value = 0;
    else if (!stub && chip_.esp8266() && op != opcode::sync && op != opcode::read_reg) r.value = next_random();
    bytes payload = std::move(r.payload);
    payload.push_back(r.error ? 1 : 0);
    payload.push_back(r.error);
    const std::size_t status_size = stub ? proto::stub_status_length : chip_.status_size();
    payload.resize(payload.size() + status_size - 2, 0);  // ESP32-family ROM: two reserved zeros
    const bytes frame_out = otaflash::rom::slip::encode(otaflash::rom::encode_response(request->opcode, r.value, payload));

    if (op == opcode::sync && config_.faults.boot_noise && !noise_sent_) {
        noise_sent_ = true;
        bytes noise(chip_.download_banner.begin(), chip_.download_banner.end());
        const bytes text = junk(20, 60, true);
        noise.insert(noise.end(), text.begin(), text.end());
        noise.push_back('\n');
        emit(replied, std::move(noise), chip_.info->rom_boot_log_baud);
    }
    bytes wire;
    for (std::size_t i = 0; i < r.copies; ++i) {
        if (config_.faults.garbage) {
            const bytes j = junk(1, 8, false);
            wire.insert(wire.end(), j.begin(), j.end());
        }
        wire.insert(wire.end(), frame_out.begin(), frame_out.end());
    }
    emit(replied, std::move(wire), rom_baud_);

    switch (r.after) {
    case reply::then::stay: break;
    case reply::then::change_baud: {
        rom_baud_ = r.after_value;
        baud_locked_ = true;
        auto e = make_event(rom_event::kind::baud_changed);
        e.value = r.after_value;
        events_.push_back(std::move(e));
        break;
    }
    case reply::then::go_silent:
        mode_ = mode::silent;
        if (log_.enabled(log_level::info)) log_.write(log_level::info, "fault silent-after-block: no more answers until a reset");
        break;
    case reply::then::run_app: boot(tx_clock_, boot_mode::app, "flash_end"); break;
    // The stub flushes its reply and resets itself a little later; the ROM at once.
    case reply::then::reboot: boot(tx_clock_ + (stub ? stub_reboot_delay : duration{}), strap_, "flash_end"); break;
    case reply::then::run_ram: run_uploaded(tx_clock_, r.after_value); break;
    case reply::then::stream_read: stub_read_send(replied); break;
    }
}

void rom_model::run_uploaded(time_point at, std::uint32_t entry) {
    auto e = make_event(rom_event::kind::ram_exec);
    e.value = entry;
    events_.push_back(std::move(e));
    if (config_.uploaded == ram_code::stub && entry_in_upload(entry)) return start_stub(at + stub_boot_delay, entry);
    mode_ = mode::ram_code;
    if (log_.enabled(log_level::warn))
        log_.write(log_level::warn, "MEM_END jumped to " + hex32(entry) +
                                        (config_.uploaded == ram_code::stub ? ", outside everything uploaded"
                                                                            : " (--ram-code quiet)") +
                                        ": the chip stays quiet until a reset");
}

bool rom_model::entry_in_upload(std::uint32_t entry) const {
    auto it = ram_.upper_bound(entry);
    if (it == ram_.begin()) return false;
    --it;
    return entry - it->first < it->second.data.size();
}

rom_model::reply rom_model::dispatch(std::uint8_t code, std::uint32_t checksum, byte_view data) {
    const auto op = static_cast<opcode>(code);
    switch (op) {
    case opcode::sync: return on_sync(data);
    case opcode::read_reg: return on_read_reg(data);
    case opcode::write_reg: return on_write_reg(data);
    case opcode::flash_begin: return on_flash_begin(data, false);
    case opcode::flash_data: return on_flash_data(checksum, data);
    case opcode::flash_end: return on_flash_end(data);
    case opcode::mem_begin: return on_mem_begin(data);
    case opcode::mem_data: return on_mem_data(checksum, data);
    case opcode::mem_end: return on_mem_end(data);
    default: break;
    }
    const auto& rom = *chip_.info;
    switch (op) {
    case opcode::spi_set_params: if (rom.rom_spi_attach) return on_spi_set_params(data); break;
    case opcode::spi_attach: if (rom.rom_spi_attach) return on_spi_attach(data); break;
    case opcode::read_flash_slow: if (rom.rom_spi_attach) return on_read_flash_slow(data); break;
    case opcode::change_baudrate: if (rom.rom_change_baud) return on_change_baudrate(data); break;
    case opcode::flash_defl_begin: if (rom.rom_deflate) return on_flash_begin(data, true); break;
    case opcode::flash_defl_data: if (rom.rom_deflate) return on_deflate_data(checksum, data); break;
    case opcode::flash_defl_end: if (rom.rom_deflate) return on_flash_end(data); break;
    case opcode::spi_flash_md5: if (rom.rom_md5) return on_md5(data); break;
    default: break;
    }
    if (op == opcode::get_security_info && chip_.info->security_info_length > 0) return on_security_info(data);
    // Not in this ROM's command set (§1.3): one "invalid message" reply per request. A second
    // copy would be read by esptool as the answer to its next command (issue 12 item 22).
    reply r;
    r.error = proto::rom_error_invalid_message;
    r.note = std::string("not supported by the ") + std::string(chip_.name()) + " ROM";
    return r;
}

namespace {
reply_t wrong_size(std::size_t got, std::string_view expected) {
    return fail(proto::rom_error_invalid_message, std::to_string(got) + "-byte payload, the ROM takes " + std::string(expected));
}
reply_t not_attached() { return fail(proto::rom_error_failed, "SPI flash not attached: send SPI_ATTACH first"); }
}  // namespace

rom_model::reply rom_model::on_sync(byte_view data) {
    static const bytes expected = proto::sync_command().payload;
    if (!std::equal(data.begin(), data.end(), expected.begin(), expected.end()))
        return fail(proto::rom_error_invalid_message, "not the 36-byte 07 07 12 20 55… SYNC payload");
    reply r;
    if (config_.faults.no_sync) {
        r.send = false;
        r.note = "fault no-sync";
        return r;
    }
    r.value = sync_value;
    r.copies = sync_replies;
    return r;
}

rom_model::reply rom_model::on_read_reg(byte_view data) {
    if (data.size() != 4) return wrong_size(data.size(), "4 (address)");
    reply r;
    r.value = read_register(word(data, 0));
    r.note = hex32(word(data, 0)) + " = " + hex32(r.value);
    return r;
}

rom_model::reply rom_model::on_write_reg(byte_view data) {
    if (data.empty() || data.size() % 16 != 0) return wrong_size(data.size(), "16 per register (address, value, mask, delay)");
    reply r;
    for (std::size_t i = 0; i < data.size() / 16; ++i) {
        const std::uint32_t address = word(data, 4 * i), value = word(data, 4 * i + 1), mask = word(data, 4 * i + 2);
        const std::uint32_t old = read_register(address);
        write_register(address, (old & ~mask) | (value & mask));
        r.busy += std::chrono::microseconds(word(data, 4 * i + 3));
    }
    return r;
}

std::uint32_t rom_model::read_register(std::uint32_t address) const {
    if (address == chip_detect_magic_reg) return chip_.info->rom_magic.front();
    if (address == chip_.info->uart_clkdiv_reg)  // integer divider for the current rate (§3 crystal estimate)
        return static_cast<std::uint32_t>(std::llround(double(chip_.xtal_hz) * chip_.info->uart_clkdiv_divider / rom_baud_)) & 0xFFFFF;
    if (chip_.info->id == chip_kind::esp32 && address == proto::esp32_rtc_cali_reg) return esp32_rtc_cali_value;
    if (chip_.info->id == chip_kind::esp32 && address == proto::esp32_efuse_word4_reg) return esp32_efuse_ck8m_value;
    if (auto fuse = fuses_.find(address); fuse != fuses_.end()) return fuse->second;
    auto it = registers_.find(address);
    return it == registers_.end() ? 0 : it->second;
}

void rom_model::write_register(std::uint32_t address, std::uint32_t value) {
    const auto& spi = chip_.info->spi_registers;
    if (address == spi.base && (value & proto::spi_cmd_usr)) {
        // A user command on the SPI flash controller (§2.2): answer RDID with a JEDEC ID whose
        // capacity byte matches the flash size; status reads give 0. The busy bit clears at once.
        const std::uint32_t command = read_register(spi.base + spi.usr2) & 0xFF;
        if (command == proto::spiflash_rdid) {
            std::uint32_t capacity = 0;
            while ((std::size_t{1} << capacity) < flash_.size()) ++capacity;
            registers_[spi.base + spi.w0] = jedec_winbond | (jedec_memory_type << 8) | (capacity << 16);
        } else if (command == 0x05 || command == 0x35 || command == 0x15) {
            registers_[spi.base + spi.w0] = 0;
        }
        value &= ~proto::spi_cmd_usr;
    }
    registers_[address] = value;
}

rom_model::reply rom_model::on_spi_set_params(byte_view data) {
    if (data.size() != 24) return wrong_size(data.size(), "24 (id, total size, block, sector, page, status mask)");
    const std::uint32_t total = word(data, 1);
    if (total == 0) return fail(proto::rom_error_invalid_message, "flash size 0");
    rom_flash_size_ = total;
    reply r;
    r.note = "flash size " + std::to_string(total);
    return r;
}

rom_model::reply rom_model::on_spi_attach(byte_view data) {
    if (data.size() != 8) return wrong_size(data.size(), "8 (pin config, is_legacy and 3 zero bytes)");
    spi_attached_ = true;
    return {};
}

rom_model::reply rom_model::on_change_baudrate(byte_view data) {
    if (data.size() != 8) return wrong_size(data.size(), "8 (new baud, old baud)");
    const std::uint32_t rate = word(data, 0);
    if (rate < 300 || rate > 5'000'000) return fail(proto::rom_error_invalid_message, "baud rate " + std::to_string(rate));
    reply r;
    r.after = reply::then::change_baud;  // the reply still goes out at the old rate (§2.1)
    r.after_value = rate;
    r.note = "now " + std::to_string(rate) + " baud";
    return r;
}

std::uint64_t rom_model::initial_flash_size() const noexcept {
    // An ESP32-family ROM assumes 2 MiB until SPI_SET_PARAMS; the ESP8266 ROM addresses all it can.
    return chip_.esp8266() ? proto::rom_flash_limit : proto::rom_default_flash_size;
}

void rom_model::begin_transfer(bool compressed, std::uint32_t size, std::uint32_t blocks, std::uint32_t block_size,
                               std::uint32_t offset) {
    transfer_ = {};
    transfer_.kind = compressed ? transfer_kind::deflate : transfer_kind::plain;
    transfer_.offset = offset;
    transfer_.erase_size = size;
    transfer_.blocks = blocks;
    transfer_.block_size = block_size;
    if (compressed) transfer_.inflate = std::make_unique<zlib_inflater>();
    last_offset_ = offset;
    last_size_ = 0;
}

bool rom_model::flash_range_ok(std::uint64_t offset, std::uint64_t size) const noexcept {
    return offset + size <= rom_flash_size_;
}

rom_model::reply rom_model::on_flash_begin(byte_view data, bool compressed) {
    const std::size_t expected = chip_.info->rom_begin_encrypt_word ? 20 : 16;
    if (data.size() != expected)
        return wrong_size(data.size(), chip_.info->rom_begin_encrypt_word
                                           ? "20 (size, blocks, block size, offset, encrypted)"
                                           : "exactly 16 (size, blocks, block size, offset)");
    const std::uint32_t erase_size = word(data, 0), blocks = word(data, 1), block_size = word(data, 2),
                        offset = word(data, 3);
    if (expected == 20 && word(data, 4) != 0)
        return fail(proto::rom_error_failed, "encrypted writes are not emulated (no flash encryption key)");
    if (blocks > 0 && block_size == 0) return fail(proto::rom_error_invalid_message, "block size 0");
    if (chip_.esp8266()) spi_attached_ = true;  // FLASH_BEGIN attaches the flash on ESP8266 (§2.1)
    if (!spi_attached_ && (erase_size > 0 || blocks > 0))
        return not_attached();
    const std::uint64_t span = compressed ? erase_size : std::max<std::uint64_t>(erase_size, std::uint64_t{blocks} * block_size);
    if (!flash_range_ok(offset, span))
        return fail(proto::rom_error_failed, "range " + hex32(offset) + "+" + std::to_string(span) + " is beyond the " +
                                              std::to_string(rom_flash_size_) + "-byte flash the ROM knows (SPI_SET_PARAMS)");

    sector_range erase{offset / proto::flash_sector_size, 0};
    if (chip_.esp8266()) {
        erase = esp8266_rom_erase(erase_size, offset);
    } else if (erase_size > 0) {
        erase.count = proto::block_count(std::uint64_t{offset} + erase_size, proto::flash_sector_size) - erase.first;
    }
    flash_.erase_sectors(erase.first, erase.count);
    const erase_units units = erase_area(erase.first, erase.count);

    begin_transfer(compressed, erase_size, blocks, block_size, offset);

    reply r;
    r.busy = erase_time(units);
    r.note = "erased " + std::to_string(erase.count) + " sectors from " + hex32(erase.first * proto::flash_sector_size) + " (" +
             std::to_string(units.blocks) + " block and " + std::to_string(units.sectors) + " sector erases)";
    return r;
}

std::optional<reply_t> model_detail::parse_data(bool begun, std::string_view begin_command, byte_view data,
                                                std::uint32_t checksum, const data_errors& codes, data_block& out) {
    if (!begun) return fail(codes.not_begun, "no " + std::string(begin_command) + " before this block");
    constexpr std::size_t header = proto::data_header_length;
    if (data.size() < header)
        return fail(codes.length, std::to_string(data.size()) + "-byte payload, shorter than the 16-byte data header");
    const std::uint32_t length = word(data, 0);
    if (length != data.size() - header)
        return fail(codes.length, "header says " + std::to_string(length) + " data bytes, " +
                                      std::to_string(data.size() - header) + " arrived");
    out.seq = word(data, 1);
    out.block = data.subspan(header);
    const std::uint8_t sum = proto::data_checksum(out.block);
    if (checksum != sum) return fail(codes.checksum, "checksum " + hex32(checksum) + ", data sums to " + hex32(sum));
    return std::nullopt;
}

namespace {
constexpr data_errors rom_data_errors{proto::rom_error_failed, proto::rom_error_invalid_message, proto::rom_error_checksum};

reply_t out_of_order(std::uint32_t seq, std::uint32_t expected) {
    return fail(proto::rom_error_invalid_message,
                "block " + std::to_string(seq) + " out of order, expected " + std::to_string(expected));
}
}  // namespace

bool rom_model::program(std::uint32_t address, byte_view block) {
    if (!flash_.program(address, block)) return false;
    for (auto offset : config_.faults.flip_bytes)
        if (offset >= address && offset - address < block.size()) flash_.invert(offset);
    return true;
}

bool rom_model::program_block(std::uint32_t address, byte_view block, reply& r) {
    r.busy = write_time(block.size());
    // The ROM programs the block and reads it back before it answers (§2.1).
    if (!program(address, block)) {
        r.error = proto::rom_error_flash_write;
        r.note = "read-back at " + hex32(address) + " differs: that flash was not erased";
        return false;
    }
    return true;
}

void rom_model::finish_transfer(std::uint32_t size) {
    transfer_.complete = true;
    last_size_ = size;
    auto e = make_event(rom_event::kind::flash_written);
    e.offset = transfer_.offset;
    e.size = size;
    e.md5 = md5_hex(flash_.read(transfer_.offset, size));
    e.compressed = transfer_.kind == transfer_kind::deflate;
    events_.push_back(std::move(e));
}

bool model_detail::injected_failure(const fault_set& faults, std::vector<std::uint32_t>& failed_once, std::uint32_t seq) {
    const auto& always = faults.status_error_blocks;
    const auto& once = faults.status_error_once_blocks;
    bool hit = std::find(always.begin(), always.end(), seq) != always.end();
    if (!hit && std::find(once.begin(), once.end(), seq) != once.end() &&
        std::find(failed_once.begin(), failed_once.end(), seq) == failed_once.end()) {
        failed_once.push_back(seq);
        hit = true;
    }
    return hit;
}

namespace {
std::optional<reply_t> injected_refusal(const fault_set& faults, std::vector<std::uint32_t>& failed_once, std::uint32_t seq) {
    if (!injected_failure(faults, failed_once, seq)) return std::nullopt;
    return fail(proto::rom_error_flash_write, "fault status-error-on-block=" + std::to_string(seq));
}
}  // namespace

rom_model::reply rom_model::on_flash_data(std::uint32_t checksum, byte_view data) {
    data_block d;
    if (auto bad = parse_data(transfer_.kind == transfer_kind::plain, "FLASH_BEGIN", data, checksum, rom_data_errors, d)) return std::move(*bad);
    auto& t = transfer_;
    if (d.block.size() != t.block_size)
        return fail(proto::rom_error_invalid_message, std::to_string(d.block.size()) + "-byte block, FLASH_BEGIN said " +
                                                std::to_string(t.block_size) + " (pad the last block with 0xFF)");
    if (d.seq >= t.blocks)
        return fail(proto::rom_error_invalid_message, "block " + std::to_string(d.seq) + " of " + std::to_string(t.blocks));
    if (d.seq > t.next_seq) return out_of_order(d.seq, t.next_seq);
    if (auto refused = injected_refusal(config_.faults, failed_once_, d.seq)) return std::move(*refused);

    const std::uint32_t address = t.offset + d.seq * t.block_size;
    reply r;
    if (!program_block(address, d.block, r)) return r;
    r.note = "block " + std::to_string(d.seq) + " at " + hex32(address);
    if (d.seq == t.next_seq) {
        ++t.next_seq;
        t.written += t.block_size;
        if (t.next_seq == t.blocks) finish_transfer(t.written);
    }
    if (config_.faults.silent_after_block == d.seq) r.after = reply::then::go_silent;
    return r;
}

rom_model::reply rom_model::on_deflate_data(std::uint32_t checksum, byte_view data) {
    data_block d;
    if (auto bad = parse_data(transfer_.kind == transfer_kind::deflate, "FLASH_DEFL_BEGIN", data, checksum, rom_data_errors, d))
        return std::move(*bad);
    auto& t = transfer_;
    if (d.block.size() > t.block_size)
        return fail(proto::rom_error_invalid_message, std::to_string(d.block.size()) + "-byte block, FLASH_DEFL_BEGIN said " +
                                                std::to_string(t.block_size));
    if (d.seq != t.next_seq) return out_of_order(d.seq, t.next_seq);
    if (auto refused = injected_refusal(config_.faults, failed_once_, d.seq)) return std::move(*refused);
    if (t.complete) return fail(proto::rom_error_deflate_param, "data after the end of the zlib stream");

    bytes out;
    const auto status = t.inflate->feed(d.block, out);
    reply r;
    if (t.written + out.size() > t.erase_size) {
        r.error = proto::rom_error_deflate_param;
        r.note = "inflates past the " + std::to_string(t.erase_size) + " bytes FLASH_DEFL_BEGIN announced";
        return r;
    }
    const std::uint32_t address = t.offset + t.written;
    if (!program_block(address, out, r)) return r;
    t.written += static_cast<std::uint32_t>(out.size());
    if (status == zlib_inflater::status::bad_stream) return fail(proto::rom_error_deflate, "not a valid zlib/deflate stream");
    if (status == zlib_inflater::status::bad_checksum) return fail(proto::rom_error_deflate_checksum, "Adler-32 of the inflated data differs");
    ++t.next_seq;
    r.note = "block " + std::to_string(d.seq) + ": " + std::to_string(out.size()) + " bytes at " + hex32(address);
    if (status == zlib_inflater::status::finished) finish_transfer(t.written);
    if (config_.faults.silent_after_block == d.seq) r.after = reply::then::go_silent;
    return r;
}

void rom_model::end_transfer(bool reboot) {
    auto e = make_event(rom_event::kind::flash_end);
    e.offset = last_offset_;
    e.size = last_size_;
    e.md5 = md5_hex(flash_.read(last_offset_, last_size_));
    e.reboot = reboot;
    events_.push_back(std::move(e));
    transfer_ = {};
}

rom_model::reply rom_model::on_flash_end(byte_view data) {
    if (data.size() != 4) return wrong_size(data.size(), "4 (flag)");
    const bool reboot = word(data, 0) == 0;
    end_transfer(reboot);
    reply r;
    r.after = reboot ? reply::then::reboot : reply::then::run_app;
    r.note = reboot ? "reboot" : "leaving the loader to run the application";
    return r;
}

rom_model::reply rom_model::on_mem_begin(byte_view data) {
    if (data.size() != 16) return wrong_size(data.size(), "16 (size, blocks, block size, address)");
    const std::uint32_t size = word(data, 0), address = word(data, 3);
    if (!in_ram(*chip_.info, address, size))
        return fail(proto::rom_error_ram_address, std::to_string(size) + " bytes at " + hex32(address) +
                                                      " are not in the chip's RAM (code for another chip?)");
    std::uint64_t others = 0;  // a new upload to the same address replaces the old one
    for (const auto& [at, segment] : ram_)
        if (at != address) others += segment.declared;
    if (others + size > ram_upload_limit)
        return fail(proto::rom_error_ram_size, std::to_string(size) + " bytes of RAM code after " + std::to_string(others) +
                                                  " elsewhere: more than the " + std::to_string(ram_upload_limit) +
                                                  " bytes emulated");
    ram_[address] = {size, {}};
    transfer_ = {};
    transfer_.kind = transfer_kind::ram;
    transfer_.erase_size = word(data, 0);
    transfer_.blocks = word(data, 1);
    transfer_.block_size = word(data, 2);
    transfer_.offset = word(data, 3);
    reply r;
    r.note = std::to_string(transfer_.erase_size) + " bytes to " + hex32(transfer_.offset);
    return r;
}

rom_model::reply rom_model::on_mem_data(std::uint32_t checksum, byte_view data) {
    data_block d;
    if (auto bad = parse_data(transfer_.kind == transfer_kind::ram, "MEM_BEGIN", data, checksum, rom_data_errors, d)) return std::move(*bad);
    auto& t = transfer_;
    if (d.block.size() > t.block_size || t.written + d.block.size() > t.erase_size)
        return fail(proto::rom_error_invalid_message, std::to_string(d.block.size()) + "-byte block overflows the MEM_BEGIN size");
    if (d.seq != t.next_seq) return out_of_order(d.seq, t.next_seq);
    ++t.next_seq;
    t.written += static_cast<std::uint32_t>(d.block.size());
    auto& segment = ram_[t.offset].data;
    segment.insert(segment.end(), d.block.begin(), d.block.end());
    return {};
}

rom_model::reply rom_model::on_mem_end(byte_view data) {
    if (data.size() != 8) return wrong_size(data.size(), "8 (no_exec, entry)");
    transfer_ = {};
    reply r;
    if (word(data, 0) == 0) {
        if (!in_ram(*chip_.info, word(data, 1), 1, true))
            return fail(proto::rom_error_ram_address, "entry " + hex32(word(data, 1)) + " is not in the chip's instruction RAM");
        r.after = reply::then::run_ram;
        r.after_value = word(data, 1);
    }
    return r;
}

std::optional<rom_model::reply> rom_model::refuse_read(std::uint32_t address, std::uint32_t size) const {
    if (!spi_attached_) return not_attached();
    if (!flash_range_ok(address, size)) return fail(proto::rom_error_flash_read, "range beyond the flash the ROM knows");
    return std::nullopt;
}

rom_model::reply rom_model::on_md5(byte_view data) {
    if (data.size() != 16) return wrong_size(data.size(), "16 (address, size, 0, 0)");
    const std::uint32_t address = word(data, 0), size = word(data, 1);
    if (auto refused = refuse_read(address, size)) return std::move(*refused);
    reply r;
    const std::string hex = md5_hex(flash_.read(address, size));
    r.payload.assign(hex.begin(), hex.end());
    r.busy = read_time(size);
    r.note = hex32(address) + "+" + std::to_string(size) + " = " + hex;
    return r;
}

rom_model::reply rom_model::on_read_flash_slow(byte_view data) {
    if (data.size() != 8) return wrong_size(data.size(), "8 (offset, length)");
    const std::uint32_t address = word(data, 0), length = word(data, 1);
    if (length > proto::read_flash_slow_max) return fail(proto::rom_error_read_length, std::to_string(length) + " bytes asked, at most 64");
    if (auto refused = refuse_read(address, length)) return std::move(*refused);
    reply r;
    r.payload = flash_.read(address, length);
    r.payload.resize(proto::read_flash_slow_reply, 0);  // always a 64-byte buffer (§2.1)
    r.busy = read_time(proto::read_flash_slow_reply);
    return r;
}

rom_model::reply rom_model::on_security_info(byte_view data) {
    if (!data.empty()) return wrong_size(data.size(), "no payload");
    reply r;
    append_le32(r.payload, 0);               // flags: no secure boot, no secure download mode
    r.payload.insert(r.payload.end(), 8, 0);  // flash_crypt_cnt, 7 key purposes
    append_le32(r.payload, chip_.info->image_chip_id.value_or(0));
    append_le32(r.payload, 0);               // API / ECO version
    r.payload.resize(chip_.info->security_info_length);
    return r;
}

}  // namespace otaflash::emulator::rom
