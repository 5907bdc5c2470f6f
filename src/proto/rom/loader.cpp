#include <otaflash/proto/rom/loader.hpp>

#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::rom {
namespace {

// Long enough for the ROM's repeated "invalid message" replies to arrive and be dropped.
constexpr auto unsupported_drain = std::chrono::milliseconds(200);

std::string hex_excerpt(byte_view data) {
    constexpr std::size_t shown = 48;
    std::string text = to_hex(data.first(std::min(shown, data.size())));
    if (data.size() > shown) text += "…";
    return text;
}

// A port failure (signal, lost device) says what it is; add what we were doing.
failure while_doing(failure f, std::string_view what) {
    f.message += " (while trying to " + std::string(what) + ")";
    return f;
}

}  // namespace

loader::loader(port& line, log_sink& log, timeouts limits) : port_(line), log_(log), limits_(limits) {}

std::string loader::seconds(duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + " s";
}

result<void> loader::send(const command& cmd) {
    if (log_.enabled(log_level::trace))
        log_.write(log_level::trace, "→ " + opcode_name(static_cast<std::uint8_t>(cmd.op)) + " " +
                                         std::to_string(cmd.payload.size()) + " bytes: " + hex_excerpt(cmd.payload));
    // A frame is at most ~2 KiB; even at 9600 baud that drains in well under the command budget.
    return port_.write(frame(cmd), port_.now() + limits_.command);
}

void loader::keep_noise(byte_view noise) {
    if (noise.empty()) return;
    noise_.insert(noise_.end(), noise.begin(), noise.end());
    if (noise_.size() > max_noise_kept) noise_.erase(noise_.begin(), noise_.end() - max_noise_kept);
}

bytes loader::take_noise() { return std::exchange(noise_, {}); }

result<bool> loader::pull(time_point deadline) {
    auto got = port_.read(buffer_, deadline);
    if (!got) return std::move(got).error();
    if (*got == 0) return false;
    slip::decoder::output out;
    decoder_.feed(byte_view(buffer_).first(*got), out);
    for (auto& f : out.frames) frames_.push_back(std::move(f));
    if (!out.noise.empty() && log_.enabled(log_level::debug))
        log_.write(log_level::debug, "ignored " + std::to_string(out.noise.size()) + " bytes outside SLIP frames");
    keep_noise(out.noise);
    if (out.framing_errors > 0)
        log_.write(log_level::debug, "dropped " + std::to_string(out.framing_errors) + " broken SLIP frame(s)");
    return true;
}

result<std::optional<bytes>> loader::next_frame(time_point deadline) {
    while (frames_.empty()) {
        auto got = pull(deadline);
        if (!got) return std::move(got).error();
        if (!*got) return std::optional<bytes>{};
    }
    bytes f = std::move(frames_.front());
    frames_.pop_front();
    return std::optional<bytes>(std::move(f));
}

result<std::optional<response>> loader::next_reply(time_point deadline) {
    for (;;) {
        auto f = next_frame(deadline);
        if (!f) return std::move(f).error();
        if (!*f) return std::optional<response>{};
        if (auto r = parse_response(**f)) {
            if (log_.enabled(log_level::trace))
                log_.write(log_level::trace, "← " + opcode_name(r->opcode) + " value " + hex32(r->value) +
                                                 " data " + hex_excerpt(r->data));
            return std::optional<response>(std::move(*r));
        }
        log_.write(log_level::debug, "dropped a frame that is not a ROM reply (" + std::to_string((*f)->size()) + " bytes)");
    }
}

result<void> loader::discard_input() {
    for (;;) {  // what is already waiting: the boot log a reset just produced, stray replies
        auto got = pull(port_.now());
        if (!got) return std::move(got).error();
        if (!*got) break;
    }
    port_.discard_input();
    decoder_.reset();
    frames_.clear();
    return {};
}

result<reply> loader::unsupported(const response& r, const command& cmd) {
    // The ROM may repeat its refusal; drain the copies so the next command starts clean.
    auto slept = port_.sleep_until(port_.now() + unsupported_drain);
    if (!slept) return std::move(slept).error();
    auto drained = discard_input();
    if (!drained) return std::move(drained).error();
    return reply{static_cast<std::uint8_t>(cmd.op), r.value, r.data, status{true, rom_error_invalid_message}};
}

result<reply> loader::transact(const command& cmd, duration timeout, std::string_view what) {
    auto sent = send(cmd);
    if (!sent) return while_doing(std::move(sent).error(), what);
    const time_point deadline = port_.now() + std::min(timeout, limits_.max);
    for (int seen = 0; seen < max_frames_per_command; ++seen) {
        auto next = next_reply(deadline);
        if (!next) return while_doing(std::move(next).error(), what);
        if (!*next)
            return make_failure(errc::rom_timeout,
                                "timed out after " + seconds(timeout) + " waiting for the ROM to " + std::string(what),
                                "the chip stopped talking: check the cable, the power supply and that nothing else "
                                "resets the board; then run the command again");
        response& r = **next;
        if (r.opcode != static_cast<std::uint8_t>(cmd.op)) {
            // Some ROMs answer an opcode they do not know with a refusal under another opcode.
            if (r.data.size() >= 2 && r.data[0] != 0 && r.data[1] == rom_error_invalid_message)
                return unsupported(r, cmd);
            continue;  // a late duplicate (SYNC sends several) or a reply to something earlier
        }
        const std::size_t payload = cmd.reply_payload != reply_payload_rest ? cmd.reply_payload
                                    : r.data.size() > status_length_ ? r.data.size() - status_length_
                                                                      : 0;
        auto st = read_status(r.data, payload);
        if (!st)
            return make_failure(errc::protocol_violation,
                                "the reply to " + std::string(what) + " carries no status (" +
                                    std::to_string(r.data.size()) + " data bytes)",
                                "this does not look like an Espressif ROM bootloader: check the port");
        if (st->failed && st->error == rom_error_invalid_message) return unsupported(r, cmd);
        return reply{r.opcode, r.value, std::move(r.data), *st};
    }
    return make_failure(errc::protocol_violation,
                        "no reply to " + std::string(what) + " among " + std::to_string(max_frames_per_command) +
                            " frames from the ROM",
                        "something else is talking on this line: check the port");
}

result<reply> loader::execute(const command& cmd, duration timeout, std::string_view what) {
    auto r = transact(cmd, timeout, what);
    if (!r || !r->st.failed) return r;
    return refusal(what, r->st);
}

failure loader::refusal(std::string_view what, const status& st) const {
    return make_failure(errc::rom_error,
                        std::string(stub_running_ ? "the flasher stub" : "the ROM") + " failed to " + std::string(what) +
                            ": " + describe_rom_error(st.error),
                        std::string(rom_error_hint(st.error)));
}

result<std::optional<std::uint32_t>> try_read_register(loader& rom, std::uint32_t address) {
    auto r = rom.transact(read_reg(address), rom.limits().command, "read register " + hex32(address));
    if (!r) return std::move(r).error();
    if (r->st.failed) return std::optional<std::uint32_t>{};
    return std::optional<std::uint32_t>(r->value);
}

}  // namespace otaflash::rom
