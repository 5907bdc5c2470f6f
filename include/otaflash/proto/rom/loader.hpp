#pragma once
// One conversation with a ROM bootloader over a port: send a command, find its reply among
// whatever else the line carries (duplicate SYNC replies, boot text, garbage), read the status
// where the command's payload ends. Everything above this (connect, detect, write, verify) is
// built from these calls.

#include <otaflash/log.hpp>
#include <otaflash/proto/rom/command.hpp>
#include <otaflash/proto/rom/packet.hpp>
#include <otaflash/proto/rom/port.hpp>
#include <otaflash/proto/rom/slip.hpp>
#include <otaflash/proto/rom/status.hpp>
#include <otaflash/proto/rom/timeouts.hpp>
#include <otaflash/result.hpp>

#include <array>
#include <deque>
#include <optional>
#include <string_view>

namespace otaflash::rom {

struct reply {
    std::uint8_t op = 0;
    std::uint32_t value = 0;  // READ_REG result; SYNC: non-zero from a ROM
    bytes data;               // payload, then the status bytes
    status st;

    // The first `n` bytes (the command's own payload); callers checked the length.
    byte_view payload(std::size_t n) const { return byte_view(data).first(std::min(n, data.size())); }
};

// Replies searched per command before giving up (esptool and espflash: 100).
inline constexpr int max_frames_per_command = 100;
// Bytes kept from outside frames for diagnosis (the most recent ones).
inline constexpr std::size_t max_noise_kept = 8192;

class loader {
public:
    loader(port& line, log_sink& log, timeouts limits = {});

    port& line() noexcept { return port_; }
    log_sink& log() noexcept { return log_; }
    const timeouts& limits() const noexcept { return limits_; }

    // 2 until the chip is known (the status position does not depend on it; only the length
    // check of replies whose payload size varies does).
    void set_status_length(std::size_t n) noexcept { status_length_ = n; }
    std::size_t status_length() const noexcept { return status_length_; }

    // From the moment a flasher stub greets, the other end is the stub, not the ROM: 2-byte
    // status, 16 KiB blocks, erase as it writes (run_stub sets this).
    void set_stub_running() noexcept {
        stub_running_ = true;
        status_length_ = stub_status_length;
    }
    bool stub_running() const noexcept { return stub_running_; }

    // Sends `cmd` and waits up to `timeout` for the reply with its opcode. Fails on the port's
    // failures, on timeout (errc::rom_timeout) and on a reply without readable status; a status
    // saying "failed" is returned in the reply for the caller to judge.
    result<reply> transact(const command& cmd, duration timeout, std::string_view what);

    // transact, and a failed status becomes errc::rom_error naming `what` and the ROM's reason.
    result<reply> execute(const command& cmd, duration timeout, std::string_view what);

    result<void> send(const command& cmd);

    // errc::rom_error for a failed status: what could not be done and the loader's reason.
    failure refusal(std::string_view what, const status& st) const;

    // The next well-formed reply from the line (any opcode), or nullopt when `deadline` passes.
    result<std::optional<response>> next_reply(time_point deadline);
    // The next SLIP frame as it is, reply or not (a stub's greeting has no header).
    result<std::optional<bytes>> next_frame(time_point deadline);

    // Takes what is waiting on the line into the noise record, then drops everything unread.
    result<void> discard_input();

    // Bytes seen outside frames since the last call (most recent max_noise_kept).
    bytes take_noise();

    // For messages: how long a duration is, "3.0 s".
    static std::string seconds(duration d);

private:
    result<bool> pull(time_point deadline);
    void keep_noise(byte_view noise);
    result<reply> unsupported(const response& r, const command& cmd);

    port& port_;
    log_sink& log_;
    timeouts limits_;
    std::size_t status_length_ = esp8266_status_length;
    bool stub_running_ = false;
    slip::decoder decoder_;
    std::deque<bytes> frames_;
    bytes noise_;
    std::array<std::uint8_t, 4096> buffer_{};
};

// READ_REG at `address`: nullopt when the ROM refuses register access (Secure Download Mode).
result<std::optional<std::uint32_t>> try_read_register(loader& rom, std::uint32_t address);

}  // namespace otaflash::rom
