#pragma once
// Drives the ROM model like a host on a wire, with time as a parameter: requests go in as SLIP
// bytes, replies come back as parsed responses with the moment they finished arriving.

#include "emulator/rom/rom_model.hpp"

#include <otaflash/proto/rom/packet.hpp>
#include <otaflash/proto/rom/slip.hpp>

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <vector>

namespace otaflash::test {

namespace emu = otaflash::emulator::rom;

struct received {
    std::vector<rom::response> responses;
    std::vector<bytes> frames;   // every frame, responses or not (OHAI, READ_FLASH data)
    bytes noise;                 // bytes outside frames
    std::vector<emu::transmission> raw;
    emu::time_point last_at{};   // when the last byte arrived
};

inline emu::timing instant() {
    emu::timing t;
    t.wire_delay = false;
    t.erase_bytes_per_s = 0;
    t.block_erase_bytes_per_s = 0;
    t.write_bytes_per_s = 0;
    t.read_bytes_per_s = 0;
    return t;
}

// Only erasing takes time: 1 s per 4 KiB sector erase, 2 s per 64 KiB block erase, so a reply's
// time counts the erases of each kind.
inline emu::timing erase_counting() {
    emu::timing t = instant();
    t.erase_bytes_per_s = 4096;
    t.block_erase_bytes_per_s = 32768;
    return t;
}

// A flash range and the seconds erase_counting() gives for erasing it.
struct erase_case {
    std::uint32_t offset, size;
    double seconds;
};

inline bytes sync_data() {
    bytes data{0x07, 0x07, 0x12, 0x20};
    data.insert(data.end(), 32, 0x55);
    return data;
}

// Repeatable bytes that look random (and do not compress).
inline bytes pattern(std::size_t n, std::uint8_t seed) {
    bytes out(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& b : out) {
        x = x * 1103515245u + 12345u;
        b = static_cast<std::uint8_t>(x >> 16);
    }
    return out;
}

// A zlib stream as esptool makes it (level 9).
inline bytes zlib_compress(byte_view data) {
    uLongf size = compressBound(static_cast<uLong>(data.size()));
    bytes out(size);
    EXPECT_EQ(compress2(out.data(), &size, data.data(), static_cast<uLong>(data.size()), 9), Z_OK);
    out.resize(size);
    return out;
}

inline bytes words(std::initializer_list<std::uint32_t> values) {
    bytes out;
    for (auto v : values) append_le32(out, v);
    return out;
}

class rom_harness {
public:
    explicit rom_harness(emu::chip_kind chip, emu::fault_set faults = {}, emu::timing speeds = instant(),
                         bytes flash = bytes(1u << 20, 0xFF), emu::ram_code uploaded = emu::ram_code::stub)
        : model_(make_config(chip, std::move(faults), speeds, uploaded), std::move(flash)) {
        model_.start(now, emu::boot_mode::download);
    }

    // Sends raw line bytes at `baud` and collects everything the model sends back.
    // `baud` 0: the harness's current line rate.
    received send_raw(byte_view wire, std::uint32_t baud = 0) {
        model_.receive(wire, now, baud ? baud : line_baud);
        return collect();
    }

    received send(std::uint8_t opcode, byte_view data, std::uint32_t checksum = 0, std::uint32_t baud = 0) {
        return send_raw(rom::slip::encode(rom::encode_request(opcode, data, checksum)), baud);
    }

    received send_block(std::uint8_t opcode, std::uint32_t seq, byte_view block, std::uint32_t baud = 0) {
        return send(opcode, rom::data_payload(seq, block), rom::data_checksum(block), baud);
    }

    received collect() {
        received r;
        for (auto& t : model_.take_output()) {
            rom::slip::decoder::output out;
            decoder_.feed(t.data, out);
            for (auto& f : out.frames) {
                if (auto resp = rom::parse_response(f)) r.responses.push_back(std::move(*resp));
                r.frames.push_back(f);
            }
            r.noise.insert(r.noise.end(), out.noise.begin(), out.noise.end());
            r.last_at = t.at;
            r.raw.push_back(std::move(t));
        }
        return r;
    }

    // SYNC + (on ESP32 family) SPI_ATTACH + SPI_SET_PARAMS for the whole flash.
    void connect() {
        send(0x08, sync_data());
        if (!model_.chip().esp8266()) {
            send(0x0D, bytes(8, 0));
            send(0x0B, words({0, static_cast<std::uint32_t>(model_.flash().size()), 0x10000, 0x1000, 0x100, 0xFFFF}));
        }
    }

    // FLASH_BEGIN with the payload size this chip's ROM takes.
    received flash_begin(std::uint32_t erase_size, std::uint32_t blocks, std::uint32_t block_size, std::uint32_t offset,
                         std::uint8_t opcode = 0x02) {
        bytes data = words({erase_size, blocks, block_size, offset});
        if (model_.chip().info->rom_begin_encrypt_word) append_le32(data, 0);
        return send(opcode, data);
    }

    emu::rom_model& model() { return model_; }
    emu::time_point now = emu::time_point{} + std::chrono::hours(1);
    std::uint32_t line_baud = 115200;  // the host's side of the line

private:
    static emu::rom_config make_config(emu::chip_kind chip, emu::fault_set faults, emu::timing speeds, emu::ram_code uploaded) {
        emu::rom_config c;
        c.chip = chip;
        c.faults = std::move(faults);
        c.speeds = speeds;
        c.uploaded = uploaded;
        return c;
    }
    emu::rom_model model_;
    rom::slip::decoder decoder_;
};

// The status bytes at the end of a response: {failed, error} (+ two reserved zeros on ESP32 family).
inline bytes status_of(const rom::response& r, std::size_t status_len) {
    return bytes(r.data.end() - static_cast<std::ptrdiff_t>(status_len), r.data.end());
}

}  // namespace otaflash::test
