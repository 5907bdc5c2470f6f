#pragma once
// Test doubles for the ROM core: a port with a manual clock that can fail at any numbered step,
// and a small ROM model behind it (SYNC replies, magic, security info, flash writes plain and
// deflated, MD5, slow reads) with switchable faults. Time only moves when the code under test
// waits, so timeouts are exercised without sleeping.

#include <otaflash/chip/chip.hpp>
#include <otaflash/crypto/digest.hpp>
#include <otaflash/proto/rom/command.hpp>
#include <otaflash/proto/rom/packet.hpp>
#include <otaflash/proto/rom/port.hpp>
#include <otaflash/proto/rom/slip.hpp>
#include <otaflash/util/hex.hpp>

#include <zlib.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace otaflash::test {

using namespace std::chrono_literals;

// The ROM side: requests in, reply bytes out.
class fake_rom {
public:
    explicit fake_rom(chip c, std::size_t flash_size = 4u << 20) : flash(flash_size, 0xFF), chip_(c) {}

    const chip_info& info() const { return otaflash::info(chip_); }

    bytes flash;
    std::vector<std::uint8_t> opcodes;            // every request, in order
    std::vector<rom::request> requests;
    std::uint32_t rom_baud = 115200;
    // The rate the ROM really runs at when CHANGE_BAUDRATE tells it `told` (a ROM that misjudges
    // its crystal lands elsewhere).
    std::function<std::uint32_t(std::uint32_t)> baud_effect = [](std::uint32_t told) { return told; };
    int sync_replies = 8;
    bool answers = true;                          // false: never answers anything (not in download mode)
    std::optional<std::uint32_t> fail_block;      // FLASH_DATA / DEFL_DATA seq answered with status 0x08
    std::optional<std::uint8_t> fail_block_error;
    int fail_block_times = 1000;                  // how many times that block fails
    std::optional<std::uint32_t> silent_after_block;
    std::optional<std::uint32_t> flip_offset;     // reads back flipped after writing
    bool refuse_read_reg = false;                 // Secure Download Mode
    std::optional<std::uint32_t> override_magic;
    std::uint32_t begin_erase_size = 0;           // last FLASH_BEGIN's first word (for the ESP8266 quirk)
    std::map<std::uint32_t, std::uint32_t> registers;
    std::optional<std::uint32_t> jedec_answer;    // what RDID returns (default: a flash of this size)
    std::optional<std::size_t> refuse_request;    // this request (0-based, in arrival order) fails with 0x06
    // Uploaded code whose entry lies inside it greets and behaves as esptool's flasher stub.
    bool runs_stubs = true;
    bool stub_running = false;
    bool stub_any_block_size = false;  // a newer stub: blocks up to 16 KiB (the legacy one insists on 16 KiB)
    std::vector<std::pair<std::uint32_t, bytes>> ram;  // MEM_BEGIN address, MEM_DATA bytes
    std::optional<std::uint32_t> stub_write_error_block;  // stub: programming this block fails (told in the next reply)

    // Reply frames (SLIP-encoded) for one request frame.
    std::vector<bytes> handle(byte_view frame) {
        auto req = rom::parse_request(frame);
        if (!req) return {};
        opcodes.push_back(req->opcode);
        requests.push_back(*req);
        if (!answers || silent_) return {};
        if (refuse_request && *refuse_request + 1 == requests.size()) return {fail(req->opcode, 0x06)};
        const auto op = static_cast<rom::opcode>(req->opcode);
        const byte_view d = req->data;
        auto word = [&](std::size_t i) { return d.size() >= 4 * (i + 1) ? load_le32(d.data() + 4 * i) : 0u; };
        if (stub_running) {
            if (std::exchange(deferred_error_, false)) return {fail(req->opcode, 0xC4)};  // SPI op failed, earlier block
            switch (op) {
            case rom::opcode::spi_attach: return {d.size() == 4 ? reply(req->opcode, 0, {}) : fail(req->opcode, 0xC0)};
            case rom::opcode::change_baudrate:
                if (word(1) != rom_baud) return {fail(req->opcode, 0xC0)};  // the stub needs the old rate
                pending_baud_ = word(0);
                return {reply(req->opcode, 0, {})};
            case rom::opcode::flash_begin:
            case rom::opcode::flash_defl_begin:
                if (d.size() != 16) return {fail(req->opcode, 0xC0)};  // the legacy stub takes four words
                if (stub_any_block_size ? word(2) > rom::stub_block_size : word(2) != rom::stub_block_size)
                    return {fail(req->opcode, 0xC2)};
                break;
            case rom::opcode::flash_end:
            case rom::opcode::flash_defl_end:
                if (word(0) == 0) stub_running = false;  // reboot: back to the ROM
                ran_application = false;
                return {reply(req->opcode, 0, {})};
            case rom::opcode::spi_flash_md5: return {reply(req->opcode, 0, md5(read(word(0), word(1))))};
            case rom::opcode::read_flash_slow:
            case rom::opcode::mem_begin:
            case rom::opcode::get_security_info: return {fail(req->opcode, 0xFF)};
            default: break;
            }
        }
        switch (op) {
        case rom::opcode::mem_begin:
            ram.emplace_back(word(3), bytes{});
            return {reply(req->opcode, 0, {})};
        case rom::opcode::mem_data:
            if (ram.empty() || d.size() < 16) return {fail(req->opcode, 0x06)};
            ram.back().second.insert(ram.back().second.end(), d.begin() + 16, d.end());
            return {reply(req->opcode, 0, {})};
        case rom::opcode::mem_end: {
            std::vector<bytes> out{reply(req->opcode, 0, {})};
            const std::uint32_t entry = word(1);
            const bool inside = std::any_of(ram.begin(), ram.end(), [&](const auto& seg) {
                return entry >= seg.first && entry - seg.first < seg.second.size();
            });
            if (word(0) == 0 && inside && runs_stubs) {
                stub_running = true;
                out.push_back(rom::slip::encode(as_bytes("OHAI")));
            } else if (word(0) == 0) {
                silent_ = true;  // jumped into nothing runnable
            }
            return out;
        }
        case rom::opcode::sync: {
            std::vector<bytes> out;
            for (int i = 0; i < sync_replies; ++i) out.push_back(reply(req->opcode, stub_running ? 0 : 0x20120707, {}));
            return out;
        }
        case rom::opcode::read_reg: {
            if (refuse_read_reg) return {fail(req->opcode, 0x05)};
            std::uint32_t v = registers[word(0)];
            if (word(0) == chip_detect_magic_reg)
                v = override_magic ? *override_magic : (info().rom_magic.empty() ? 0xDEADBEEF : info().rom_magic[0]);
            return {reply(req->opcode, v, {})};
        }
        case rom::opcode::write_reg: {
            if (refuse_read_reg) return {fail(req->opcode, 0x05)};
            const auto& spi = info().spi_registers;
            std::uint32_t value = word(1);
            // A user command on the SPI controller: RDID answers with a JEDEC ID of this flash's size.
            if (word(0) == spi.base && (value & (1u << 18)) && (registers[spi.base + spi.usr2] & 0xFF) == 0x9F) {
                std::uint32_t capacity = 0;
                while ((std::size_t{1} << capacity) < flash.size()) ++capacity;
                registers[spi.base + spi.w0] = jedec_answer.value_or(0xEF | 0x40 << 8 | capacity << 16);
                value &= ~(1u << 18);
            }
            registers[word(0)] = value;
            return {reply(req->opcode, 0, {})};
        }
        case rom::opcode::get_security_info: {
            if (info().security_info_length == 0) return {fail(req->opcode, 0x05)};
            bytes p;
            append_le32(p, refuse_read_reg ? 0x4 : 0);
            p.resize(12, 0);
            if (info().security_info_length == 20) {
                append_le32(p, *info().image_chip_id);
                append_le32(p, 0);
            }
            return {reply(req->opcode, 0, p)};
        }
        case rom::opcode::spi_attach:
        case rom::opcode::spi_set_params:
            if (!info().rom_spi_attach && !stub_running) return {fail(req->opcode, 0x05)};
            return {reply(req->opcode, 0, {})};
        case rom::opcode::change_baudrate:
            if (!info().rom_change_baud) return {fail(req->opcode, 0x05)};
            pending_baud_ = baud_effect(word(0));
            return {reply(req->opcode, 0, {})};
        case rom::opcode::flash_begin:
        case rom::opcode::flash_defl_begin: {
            const bool defl = op == rom::opcode::flash_defl_begin;
            if (defl && !info().rom_deflate && !stub_running) return {fail(req->opcode, 0x05)};
            const std::size_t words = info().rom_begin_encrypt_word && !stub_running ? 20 : 16;
            if (d.size() != words) return {fail(req->opcode, 0x64)};
            begin_erase_size = word(0);
            offset_ = word(3);
            block_size_ = word(2);
            // The real ROM erases the range up front (the ESP8266 quirk aside: model the intent).
            const std::uint64_t span = defl ? word(0) : std::uint64_t{word(1)} * word(2);
            const std::uint64_t from = offset_ / 0x1000 * 0x1000;
            const std::uint64_t to = std::min<std::uint64_t>((offset_ + span + 0xFFF) / 0x1000 * 0x1000, flash.size());
            for (std::uint64_t a = from; a < to; ++a) flash[a] = 0xFF;
            next_seq_ = 0;
            written_ = 0;
            deflating_ = defl;
            if (defl) {
                z_.reset(new z_stream{});
                inflateInit(z_.get());
            }
            return {reply(req->opcode, 0, {})};
        }
        case rom::opcode::flash_data:
        case rom::opcode::flash_defl_data: {
            const std::uint32_t len = word(0), seq = word(1);
            if (d.size() != 16 + len || (req->checksum & 0xFF) != rom::data_checksum(d.subspan(16)))
                return {fail(req->opcode, 0x07)};
            if (seq != next_seq_) return {fail(req->opcode, 0x06)};
            if (fail_block && *fail_block == seq && fail_block_times-- > 0)
                return {fail(req->opcode, fail_block_error.value_or(0x08))};
            if (stub_running && stub_write_error_block == seq) deferred_error_ = true;
            byte_view block = d.subspan(16);
            if (op == rom::opcode::flash_data) {
                store(block);
            } else {
                bytes out(256 * 1024);
                z_->next_in = const_cast<Bytef*>(block.data());
                z_->avail_in = static_cast<uInt>(block.size());
                do {
                    z_->next_out = out.data();
                    z_->avail_out = static_cast<uInt>(out.size());
                    const int rc = inflate(z_.get(), Z_NO_FLUSH);
                    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return {fail(req->opcode, 0x0B)};
                    store(byte_view(out).first(out.size() - z_->avail_out));
                    if (rc != Z_OK) break;
                } while (z_->avail_in > 0 || z_->avail_out == 0);
            }
            ++next_seq_;
            if (silent_after_block && seq >= *silent_after_block) silent_ = true;
            return {reply(req->opcode, 0, {})};
        }
        case rom::opcode::flash_end:
        case rom::opcode::flash_defl_end: ran_application = word(0) == 1; return {reply(req->opcode, 0, {})};
        case rom::opcode::spi_flash_md5: {
            if (!info().rom_md5) return {fail(req->opcode, 0x05)};
            const std::uint32_t at = word(0), n = word(1);
            const std::string hex = to_hex(md5(read(at, n)));
            return {reply(req->opcode, 0, as_bytes(hex))};
        }
        case rom::opcode::read_flash_slow: {
            if (!info().rom_read_flash_slow) return {fail(req->opcode, 0x05)};
            bytes p = read(word(0), std::min<std::uint32_t>(word(1), 64));
            p.resize(64, 0);
            return {reply(req->opcode, 0, p)};
        }
        default: return {fail(req->opcode, 0x05)};
        }
    }

    // Applied by the port once the reply to CHANGE_BAUDRATE went out at the old rate.
    std::optional<std::uint32_t> take_pending_baud() { return std::exchange(pending_baud_, std::nullopt); }
    bool ran_application = false;

    bytes read(std::uint32_t at, std::uint32_t n) const {
        bytes out(flash.begin() + at, flash.begin() + at + n);
        if (flip_offset && *flip_offset >= at && *flip_offset < at + n) out[*flip_offset - at] ^= 0xFF;
        return out;
    }

private:
    void store(byte_view data) {
        for (std::size_t i = 0; i < data.size() && offset_ + written_ + i < flash.size(); ++i)
            flash[offset_ + written_ + i] &= data[i];  // flash bits only go from 1 to 0
        written_ += data.size();
    }

    bytes status(bool failed, std::uint8_t error) const {
        bytes s{static_cast<std::uint8_t>(failed ? 1 : 0), error};
        if (info().rom_status_length == 4 && !stub_running) s.insert(s.end(), {0, 0});
        return s;
    }
    bytes reply(std::uint8_t op, std::uint32_t value, byte_view payload) const {
        bytes data(payload.begin(), payload.end());
        auto st = status(false, 0);
        data.insert(data.end(), st.begin(), st.end());
        return rom::slip::encode(rom::encode_response(op, value, data));
    }
    bytes fail(std::uint8_t op, std::uint8_t error) const {
        return rom::slip::encode(rom::encode_response(op, 0, status(true, error)));
    }

    struct z_deleter {
        void operator()(z_stream* z) const { inflateEnd(z); delete z; }
    };

    chip chip_;
    bool silent_ = false;
    bool deferred_error_ = false;
    std::optional<std::uint32_t> pending_baud_;
    std::uint32_t offset_ = 0, block_size_ = 0, next_seq_ = 0;
    std::size_t written_ = 0;
    bool deflating_ = false;
    std::unique_ptr<z_stream, z_deleter> z_;
};

// A port over the fake ROM, with a manual clock and a numbered-step failure switch.
class fake_port final : public rom::port {
public:
    explicit fake_port(fake_rom* rom = nullptr) : rom_(rom) {}

    rom::time_point clock_now{};
    std::uint32_t current_baud = 115200;
    bool has_lines = true;
    std::vector<std::pair<bool, bool>> line_changes;
    std::vector<std::uint32_t> baud_changes;
    bytes written;
    std::chrono::milliseconds latency{1};
    int steps = 0;                           // port calls made so far
    std::optional<int> fail_at_step;         // this call (1-based) fails …
    errc fail_with = errc::connection_lost;  // … with this code

    // Bytes the line delivers before any reply (a boot log, noise).
    void deliver(byte_view data, std::chrono::milliseconds after = 0ms) {
        incoming_.push_back({clock_now + after, bytes(data.begin(), data.end()), current_baud});
    }

    rom::time_point now() override { return clock_now; }

    result<void> write(byte_view data, rom::time_point) override {
        if (auto f = step("write")) return *f;
        written.insert(written.end(), data.begin(), data.end());
        if (!rom_ || !same_rate(rom_->rom_baud, current_baud)) return {};  // at the wrong rate the ROM sees garbage
        rom::slip::decoder::output out;
        decoder_.feed(data, out);
        for (const auto& frame : out.frames) {
            for (auto& reply : rom_->handle(frame))
                incoming_.push_back({clock_now + latency, std::move(reply), rom_->rom_baud});
            if (auto b = rom_->take_pending_baud()) rom_->rom_baud = *b;  // after its reply went out
        }
        return {};
    }

    result<std::size_t> read(std::span<std::uint8_t> into, rom::time_point deadline) override {
        if (auto f = step("read")) return *f;
        if (incoming_.empty() || incoming_.front().at > std::max(deadline, clock_now)) {
            clock_now = std::max(deadline, clock_now);
            return std::size_t{0};
        }
        auto& chunk = incoming_.front();
        clock_now = std::max(clock_now, chunk.at);
        // Bytes sent at another rate than the ROM's arrive as garbage, as on a real line.
        const bool garbled = !same_rate(chunk.baud, current_baud);
        const std::size_t n = std::min(into.size(), chunk.data.size());
        for (std::size_t i = 0; i < n; ++i) into[i] = garbled ? static_cast<std::uint8_t>(chunk.data[i] ^ 0x5A) : chunk.data[i];
        chunk.data.erase(chunk.data.begin(), chunk.data.begin() + static_cast<std::ptrdiff_t>(n));
        if (chunk.data.empty()) incoming_.pop_front();
        return n;
    }

    void discard_input() override {
        while (!incoming_.empty() && incoming_.front().at <= clock_now) incoming_.pop_front();
    }

    result<void> set_baud(std::uint32_t baud) override {
        if (auto f = step("set_baud")) return *f;
        current_baud = baud;
        baud_changes.push_back(baud);
        return {};
    }
    std::uint32_t baud() const override { return current_baud; }

    result<bool> set_lines(bool dtr, bool rts) override {
        if (auto f = step("set_lines")) return *f;
        if (!has_lines) return false;
        line_changes.emplace_back(dtr, rts);
        return true;
    }

    result<void> sleep_until(rom::time_point until) override {
        if (auto f = step("sleep")) return *f;
        clock_now = std::max(clock_now, until);
        return {};
    }

    std::string name() const override { return "/dev/fake"; }

private:
    // A UART copes with a few per cent between the two ends.
    static bool same_rate(std::uint32_t a, std::uint32_t b) {
        const double hi = std::max(a, b), lo = std::min(a, b);
        return (hi - lo) / hi <= 0.03;
    }

    std::optional<failure> step(const char* what) {
        ++steps;
        if (fail_at_step && steps == *fail_at_step)
            return make_failure(fail_with, std::string("injected failure at step ") + std::to_string(steps) + " (" + what + ")");
        return std::nullopt;
    }

    struct chunk_t {
        rom::time_point at;
        bytes data;
        std::uint32_t baud;  // the rate it was sent at
    };
    fake_rom* rom_;
    rom::slip::decoder decoder_;
    std::deque<chunk_t> incoming_;
};

}  // namespace otaflash::test
