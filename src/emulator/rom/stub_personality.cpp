// The emulated chip once a flasher stub runs in its RAM (rom-bootloader.md §2, §9.3): esptool's
// stub protocol with 2 status bytes on every chip, 16 KiB blocks acknowledged on receipt and
// programmed while the next one arrives, erases run ahead of the writes in the background,
// deflate, raw MD5, baud changes on ESP8266 too, chip and region erase, and the READ_FLASH stream. The uploaded code itself is
// never run: a MEM_END into uploaded bytes is taken to start a stub.

#include "model_reply.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/proto/rom/command.hpp>
#include <otaflash/proto/rom/slip.hpp>
#include <otaflash/proto/rom/status.hpp>
#include <otaflash/proto/rom/stub.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::emulator::rom {
using namespace model_detail;

namespace {

namespace proto = otaflash::rom;
using proto::opcode;

constexpr data_errors stub_data_errors{proto::stub_error_not_in_flash_mode, proto::stub_error_bad_data_length,
                                       proto::stub_error_checksum};

reply_t stub_wrong_size(std::size_t got, std::string_view expected) {
    return fail(proto::stub_error_bad_data_length, std::to_string(got) + "-byte payload, the stub takes " + std::string(expected));
}

// SYNC, READ_REG, WRITE_REG, SPI_SET_PARAMS and CHANGE_BAUDRATE work in the stub as in the ROM;
// they only fail on a malformed payload, which the stub calls a bad data length.
reply_t as_stub(reply_t r) {
    if (r.error) r.error = proto::stub_error_bad_data_length;
    return r;
}

std::uint32_t frames_in_flight(std::uint32_t sent, std::uint32_t acked, std::uint32_t packet) {
    return (sent - acked + packet - 1) / packet;
}

}  // namespace

void rom_model::start_stub(time_point at, std::uint32_t entry) {
    mode_ = mode::stub;
    transfer_ = {};
    stub_ = {};
    baud_locked_ = true;  // the stub's UART keeps the ROM's rate: no more auto-baud
    decoder_.reset();
    busy_until_ = std::max(busy_until_, at);
    emit(at, proto::slip::encode(as_bytes(proto::stub_greeting)), rom_baud_);
    auto e = rom_event{};
    e.what = rom_event::kind::stub_started;
    e.value = entry;
    events_.push_back(std::move(e));
    if (log_.enabled(log_level::info))
        log_.write(log_level::info, "flasher stub started at " + hex32(entry) + ", OHAI sent at " + std::to_string(rom_baud_) + " baud");
}

rom_model::reply rom_model::dispatch_stub(std::uint8_t code, std::uint32_t checksum, byte_view data) {
    switch (static_cast<opcode>(code)) {
    case opcode::sync: return as_stub(on_sync(data));
    case opcode::read_reg: return as_stub(on_read_reg(data));
    case opcode::write_reg: return as_stub(on_write_reg(data));
    case opcode::spi_set_params: return as_stub(on_spi_set_params(data));
    case opcode::change_baudrate: return as_stub(on_change_baudrate(data));  // every chip, the reply at the old rate
    case opcode::spi_attach:
        if (data.size() != 4 && data.size() != 8) return stub_wrong_size(data.size(), "4 (pin config), or the ROM's 8");
        return {};
    case opcode::flash_begin: return on_stub_flash_begin(data, false);
    case opcode::flash_defl_begin: return on_stub_flash_begin(data, true);
    case opcode::flash_data: return on_stub_flash_data(checksum, data, false);
    case opcode::flash_defl_data: return on_stub_flash_data(checksum, data, true);
    case opcode::flash_end:
    case opcode::flash_defl_end: return on_stub_flash_end(data);
    case opcode::spi_flash_md5: return on_stub_md5(data);
    case opcode::get_security_info:  // the stub answers it on the chips whose ROM does (§2 table)
        if (chip_.info->security_info_length > 0) return as_stub(on_security_info(data));
        break;
    default: break;
    }
    switch (code) {
    case proto::stub_erase_flash: return on_stub_erase_flash(data);
    case proto::stub_erase_region: return on_stub_erase_region(data);
    case proto::stub_read_flash: return on_stub_read_flash(data);
    default: break;
    }
    return fail(proto::stub_error_not_implemented, "not implemented by the flasher stub");
}

std::optional<rom_model::reply> rom_model::stub_refuse_range(std::uint64_t offset, std::uint64_t size) const {
    // The stub goes through the ROM's SPI driver, which knows the size SPI_SET_PARAMS set.
    if (flash_range_ok(offset, size)) return std::nullopt;
    return fail(proto::stub_error_bad_data_length, "range " + hex32(static_cast<std::uint32_t>(offset)) + "+" + std::to_string(size) +
                                                       " is beyond the " + std::to_string(rom_flash_size_) +
                                                       "-byte flash the stub knows (SPI_SET_PARAMS)");
}

rom_model::reply rom_model::on_stub_flash_begin(byte_view data, bool compressed) {
    if (data.size() != 16 && data.size() != 20)
        return stub_wrong_size(data.size(), "16 or 20 (size, blocks, block size, offset[, encrypted])");
    const std::uint32_t size = word(data, 0), blocks = word(data, 1), block_size = word(data, 2), offset = word(data, 3);
    if (data.size() == 20 && word(data, 4) != 0)
        return fail(proto::stub_error_not_implemented, "encrypted writes are not emulated (no flash encryption key)");
    if (block_size > proto::stub_block_size || (blocks > 0 && block_size == 0))
        return fail(proto::stub_error_bad_block_size, std::to_string(block_size) + "-byte blocks, the stub takes 1 to 16384");
    if (offset % 4 != 0) return fail(proto::stub_error_bad_data_length, "offset " + hex32(offset) + " is not a multiple of 4");
    if (auto refused = stub_refuse_range(offset, size)) return std::move(*refused);

    begin_transfer(compressed, size, blocks, block_size, offset);
    stub_.write_error = 0;
    stub_.erase_next = offset / proto::flash_sector_size;
    stub_.erase_end = proto::block_count(std::uint64_t{offset} + size, proto::flash_sector_size);
    stub_.flash_free = request_time_;  // the first erase starts now, without waiting (esp-flasher-stub)
    stub_.remaining = size;

    reply r;
    r.note = std::to_string(size) + " bytes at " + hex32(offset) + ", erased ahead of the writes";
    return r;
}

// The stub starts an erase and goes back to receiving while the flash chip works: whenever the
// flash is idle it starts the next unit of the range, ahead of the data (esp-flasher-stub's
// asynchronous erase). Erases begun before `now` ran in the background; a block whose sectors are
// not erased yet waits for them, then is programmed. Returns when the flash is done with the block.
time_point rom_model::stub_erase_for(time_point now, std::uint32_t address, std::uint32_t length) {
    auto start_unit = [&](time_point at) {
        const erase_units unit = next_erase_unit(stub_.erase_next, stub_.erase_end - stub_.erase_next);
        flash_.erase_sectors(stub_.erase_next, unit.sectors_covered());
        stub_.erase_next += unit.sectors_covered();
        return at + erase_time(unit);
    };
    while (stub_.erase_next < stub_.erase_end && stub_.flash_free < now) stub_.flash_free = start_unit(stub_.flash_free);
    time_point at = std::max(now, stub_.flash_free);
    if (length == 0) return at;
    const auto last = static_cast<std::uint32_t>((std::uint64_t{address} + length - 1) / proto::flash_sector_size);
    while (stub_.erase_next <= last && stub_.erase_next < stub_.erase_end) at = start_unit(at);
    return at;
}

duration rom_model::stub_program(std::uint32_t address, byte_view data) {
    const time_point ready = stub_erase_for(request_time_, address, static_cast<std::uint32_t>(data.size()));
    stub_.flash_free = ready + write_time(data.size());
    if (!program(address, data)) {
        stub_.write_error = proto::stub_error_spi_failed;
        if (log_.enabled(log_level::warn))
            log_.write(log_level::warn, "stub: writing " + hex32(address) + " failed (flash not erased); the next reply says so");
    }
    return stub_.flash_free - request_time_;
}

rom_model::reply rom_model::on_stub_flash_data(std::uint32_t checksum, byte_view data, bool compressed) {
    data_block d;
    const auto kind = compressed ? transfer_kind::deflate : transfer_kind::plain;
    if (auto bad = parse_data(transfer_.kind == kind, compressed ? "FLASH_DEFL_BEGIN" : "FLASH_BEGIN", data, checksum,
                              stub_data_errors, d))
        return std::move(*bad);
    auto& t = transfer_;
    // FLASH_DATA blocks are padded to the block size (the padding is not written); deflate blocks are not.
    if (compressed ? d.block.size() > t.block_size : d.block.size() != t.block_size)
        return fail(proto::stub_error_bad_block_size, std::to_string(d.block.size()) + "-byte block, FLASH_BEGIN said " +
                                                          std::to_string(t.block_size));
    if (d.seq != t.next_seq)
        return fail(proto::stub_error_invalid_command,
                    "block " + std::to_string(d.seq) + " out of order, expected " + std::to_string(t.next_seq));
    if (stub_.write_error)
        return fail(stub_.write_error, "an earlier block failed to write; start again with FLASH_BEGIN");
    ++t.next_seq;

    // Acknowledged now; everything below happens while the host sends the next block, and what
    // goes wrong is told in the next reply (the legacy stub's fs.last_error).
    reply r;
    r.note = "block " + std::to_string(d.seq) + " acknowledged";
    if (injected_failure(config_.faults, failed_once_, d.seq)) {
        stub_.write_error = proto::stub_error_spi_failed;
        r.note += "; fault status-error-on-block: its write fails";
    } else if (!compressed) {
        const auto length = std::min<std::uint32_t>(static_cast<std::uint32_t>(d.block.size()), stub_.remaining);
        r.background = stub_program(t.offset + t.written, d.block.first(length));
        t.written += length;
        stub_.remaining -= length;
        if (stub_.remaining == 0 && !t.complete) finish_transfer(t.written);
    } else if (t.complete) {
        stub_.write_error = proto::stub_error_too_much_data;
    } else {
        bytes out;
        const auto status = t.inflate->feed(d.block, out);
        if (out.size() > stub_.remaining) {
            stub_.write_error = proto::stub_error_too_much_data;
        } else {
            r.background = stub_program(t.offset + t.written, out);
            t.written += static_cast<std::uint32_t>(out.size());
            stub_.remaining -= static_cast<std::uint32_t>(out.size());
        }
        if (status == zlib_inflater::status::bad_stream || status == zlib_inflater::status::bad_checksum)
            stub_.write_error = proto::stub_error_inflate;
        else if (status == zlib_inflater::status::finished && !stub_.write_error) {
            if (stub_.remaining > 0) stub_.write_error = proto::stub_error_not_enough_data;
            else finish_transfer(t.written);
        }
    }
    if (config_.faults.silent_after_block == d.seq) r.after = reply::then::go_silent;
    return r;
}

rom_model::reply rom_model::on_stub_flash_end(byte_view data) {
    if (data.size() != 4) return stub_wrong_size(data.size(), "4 (flag)");
    if (transfer_.kind != transfer_kind::plain && transfer_.kind != transfer_kind::deflate)
        return fail(proto::stub_error_not_in_flash_mode, "no FLASH_BEGIN / FLASH_DEFL_BEGIN before FLASH_END");
    if (stub_.write_error) return fail(stub_.write_error, "a block failed to write");
    if (stub_.remaining > 0)
        return fail(proto::stub_error_not_enough_data, std::to_string(stub_.remaining) + " bytes of the range never arrived");
    // Answered only once the last block is programmed (the command waits for the stub): the
    // host's barrier before it verifies.
    const bool reboot = word(data, 0) == 0;
    end_transfer(reboot);
    reply r;
    if (reboot) r.after = reply::then::reboot;
    r.note = reboot ? "software reset in 10 ms" : "staying in the stub";
    return r;
}

rom_model::reply rom_model::on_stub_md5(byte_view data) {
    if (data.size() != 16) return stub_wrong_size(data.size(), "16 (address, size, 0, 0)");
    const std::uint32_t address = word(data, 0), size = word(data, 1);
    if (auto refused = stub_refuse_range(address, size)) return std::move(*refused);
    reply r;
    const auto digest = md5(flash_.read(address, size));
    r.payload.assign(digest.begin(), digest.end());  // 16 raw bytes, not the ROM's hex
    r.busy = read_time(size);
    r.note = hex32(address) + "+" + std::to_string(size) + " = " + to_hex(digest);
    return r;
}

rom_model::reply rom_model::on_stub_erase_flash(byte_view data) {
    if (!data.empty()) return stub_wrong_size(data.size(), "no payload");
    const auto sectors = static_cast<std::uint32_t>(flash_.size() / proto::flash_sector_size);
    flash_.erase_sectors(0, sectors);
    reply r;
    r.busy = erase_time(erase_area(0, sectors));  // block by block: a 4 MiB part takes ~10 s, like its chip erase
    r.note = "whole flash erased";
    return r;
}

rom_model::reply rom_model::on_stub_erase_region(byte_view data) {
    if (data.size() != 8) return stub_wrong_size(data.size(), "8 (offset, size)");
    const std::uint32_t offset = word(data, 0), size = word(data, 1);
    if (offset % proto::flash_sector_size != 0 || size % proto::flash_sector_size != 0)
        return fail(proto::stub_error_bad_data_length, "offset and size must be multiples of 4096");
    if (auto refused = stub_refuse_range(offset, size)) return std::move(*refused);
    const std::uint32_t first = offset / proto::flash_sector_size, count = size / proto::flash_sector_size;
    flash_.erase_sectors(first, count);
    const erase_units units = erase_area(first, count);
    reply r;
    r.busy = erase_time(units);
    r.note = std::to_string(units.blocks) + " block and " + std::to_string(units.sectors) + " sector erases";
    return r;
}

rom_model::reply rom_model::on_stub_read_flash(byte_view data) {
    if (data.size() != 16) return stub_wrong_size(data.size(), "16 (offset, length, packet size, packets in flight)");
    stub_state::reading rd;
    rd.offset = word(data, 0);
    rd.length = word(data, 1);
    rd.packet = word(data, 2);
    rd.in_flight = word(data, 3);
    if (rd.packet == 0 || rd.in_flight == 0)
        return fail(proto::stub_error_bad_data_length, "packet size and packets in flight must not be 0");
    if (auto refused = stub_refuse_range(rd.offset, rd.length)) return std::move(*refused);
    stub_.read = rd;
    reply r;
    r.after = reply::then::stream_read;
    r.note = std::to_string(rd.length) + " bytes from " + hex32(rd.offset) + " in " + std::to_string(rd.packet) + "-byte frames";
    return r;
}

void rom_model::stub_read_send(time_point from) {
    auto& rd = *stub_.read;
    time_point at = from;
    while (rd.sent < rd.length && frames_in_flight(rd.sent, rd.acked, rd.packet) < rd.in_flight) {
        const std::uint32_t n = std::min(rd.packet, rd.length - rd.sent);
        at += read_time(n);
        emit(at, proto::slip::encode(flash_.read(rd.offset + rd.sent, n)), rom_baud_);
        rd.sent += n;
    }
    if (rd.acked < rd.length) return;
    // Everything acknowledged: the MD5 of what was read closes the stream.
    const auto digest = md5(flash_.read(rd.offset, rd.length));
    emit(at, proto::slip::encode(byte_view(digest)), rom_baud_);
    stub_.read.reset();
}

void rom_model::stub_read_ack(byte_view frame, time_point arrived) {
    auto& rd = *stub_.read;
    const std::uint32_t acked = frame.size() == 4 ? load_le32(frame.data()) : 0;
    if (frame.size() != 4 || acked < rd.acked || acked > rd.sent) {
        if (log_.enabled(log_level::debug))
            log_.write(log_level::debug, "stub: READ_FLASH ignored a " + std::to_string(frame.size()) +
                                             "-byte frame that is not an acknowledgement of up to " + std::to_string(rd.sent) + " bytes");
        return;
    }
    rd.acked = acked;
    stub_read_send(std::max(arrived, busy_until_));
}

}  // namespace otaflash::emulator::rom
