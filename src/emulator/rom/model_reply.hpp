#pragma once
// One command's answer inside the ROM model, shared by the ROM's and the flasher stub's command
// handlers (rom_model.cpp, stub_personality.cpp); nothing outside the model sees it.

#include "rom_model.hpp"

#include <otaflash/proto/rom/packet.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otaflash::emulator::rom {

struct rom_model::reply {
    enum class then : std::uint8_t { stay, change_baud, go_silent, run_app, reboot, run_ram, stream_read };
    bool send = true;
    std::uint32_t value = 0;
    bytes payload;
    std::uint8_t error = 0;  // 0 = success
    duration busy{};         // work before the reply goes out
    duration background{};  // work after it (the stub programs while the next block arrives)
    std::size_t copies = 1;
    then after = then::stay;
    std::uint32_t after_value = 0;
    std::string note;  // why it failed, or what it did, for the log
};

namespace model_detail {

using reply_t = rom_model::reply;

inline reply_t fail(std::uint8_t code, std::string note) {
    reply_t r;
    r.error = code;
    r.note = std::move(note);
    return r;
}

inline std::uint32_t word(byte_view data, std::size_t index) { return load_le32(data.data() + 4 * index); }

// The codes a loader answers a malformed data block with: the ROM's or the stub's.
struct data_errors {
    std::uint8_t not_begun;
    std::uint8_t length;
    std::uint8_t checksum;
};

struct data_block {
    std::uint32_t seq = 0;
    byte_view block;
};

// A block of the transfer `begin_command` started (`begun`): the 16-byte data header and checksum
// shared by FLASH_DATA, FLASH_DEFL_DATA and MEM_DATA (§1.4). nullopt when it passes.
std::optional<reply_t> parse_data(bool begun, std::string_view begin_command, byte_view data, std::uint32_t checksum,
                                  const data_errors& codes, data_block& out);

// Whether the status-error-on-block faults make block `seq` fail (a `once` fault counts as used).
bool injected_failure(const fault_set& faults, std::vector<std::uint32_t>& failed_once, std::uint32_t seq);

}  // namespace model_detail
}  // namespace otaflash::emulator::rom
