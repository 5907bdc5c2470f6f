#include <otaflash/proto/rom/connect.hpp>

#include <algorithm>

namespace otaflash::rom {
namespace {

// The ROM sends several identical SYNC replies (8 in practice); they come back to back, so a short
// quiet period means the rest are not coming.
constexpr int sync_replies_expected = 8;
constexpr auto sync_reply_gap = std::chrono::milliseconds(100);
constexpr auto between_syncs = std::chrono::milliseconds(50);

int weight(boot_evidence::kind k) {
    switch (k) {
    case boot_evidence::kind::download_mode:
    case boot_evidence::kind::normal_boot: return 4;
    case boot_evidence::kind::panic: return 3;
    case boot_evidence::kind::application_text: return 2;
    case boot_evidence::kind::unreadable: return 1;
    case boot_evidence::kind::nothing: break;
    }
    return 0;
}

// One SYNC: true when the ROM answered (and its duplicates were drained).
result<bool> try_sync(loader& rom, connection& c) {
    auto sent = rom.send(sync_command());
    if (!sent) return std::move(sent).error();
    port& p = rom.line();
    const time_point first_deadline = p.now() + rom.limits().sync;
    for (;;) {
        auto r = rom.next_reply(first_deadline);
        if (!r) return std::move(r).error();
        if (!*r) return false;
        if ((*r)->opcode == static_cast<std::uint8_t>(opcode::sync)) {
            c.sync_value = (*r)->value;
            break;
        }
    }
    c.sync_replies = 1;
    while (c.sync_replies < sync_replies_expected) {
        auto r = rom.next_reply(p.now() + sync_reply_gap);
        if (!r) return std::move(r).error();
        if (!*r) break;
        if ((*r)->opcode == static_cast<std::uint8_t>(opcode::sync)) ++c.sync_replies;
    }
    return true;
}

}  // namespace

result<connection> connect(loader& rom, const connect_options& options) {
    port& p = rom.line();
    connection c;
    boot_evidence best;
    const int attempts = std::max(1, options.attempts);
    for (int attempt = 0; attempt < attempts; ++attempt) {
        c.attempts = attempt + 1;
        if (!options.rates.empty()) {
            const std::uint32_t rate = options.rates[static_cast<std::size_t>(attempt) % options.rates.size()];
            if (rate != p.baud()) {
                auto set = p.set_baud(rate);
                if (!set) return std::move(set).error();
            }
        }
        if (!options.strategies.empty()) {
            const reset_sequence& strategy = options.strategies[static_cast<std::size_t>(attempt) % options.strategies.size()];
            // Whatever came before the reset is not this boot's log.
            auto cleared = rom.discard_input();
            if (!cleared) return std::move(cleared).error();
            rom.take_noise();
            auto lines = run_reset(p, strategy);
            if (!lines) return std::move(lines).error();
            if (!*lines && c.modem_lines)
                rom.log().write(log_level::debug, p.name() + " has no modem lines (DTR/RTS): the chip was not reset");
            c.modem_lines = *lines;
            c.reset = strategy.name;
        }
        for (int s = 0; s < std::max(1, options.syncs_per_attempt); ++s) {
            auto cleared = rom.discard_input();
            if (!cleared) return std::move(cleared).error();
            auto synced = try_sync(rom, c);
            if (!synced) return std::move(synced).error();
            if (*synced) {
                c.baud = p.baud();
                rom.log().write(log_level::debug,
                                "SYNC answered on attempt " + std::to_string(c.attempts) + " at " +
                                    std::to_string(c.baud) + " baud (" + std::to_string(c.sync_replies) + " replies)");
                if (c.sync_value == 0)
                    rom.log().write(log_level::debug, "SYNC value 0: a flasher stub, not the ROM, is answering");
                if (options.strategies.empty()) c.reset = "none";
                return c;
            }
            auto slept = p.sleep_until(p.now() + between_syncs);
            if (!slept) return std::move(slept).error();
        }
        auto cleared = rom.discard_input();
        if (!cleared) return std::move(cleared).error();
        // Boot logs and application output come at the first rate; what a probe at another rate
        // reads of them is garbled and says nothing.
        boot_evidence seen = read_boot_evidence(rom.take_noise());
        const bool first_rate = options.rates.empty() || p.baud() == options.rates.front();
        if (first_rate && weight(seen.what) >= weight(best.what)) best = std::move(seen);
        rom.log().write(log_level::debug, "no SYNC reply in attempt " + std::to_string(c.attempts));
    }
    return no_sync_failure(best, p.name(), c.modem_lines, c.attempts);
}

failure no_sync_failure(const boot_evidence& evidence, const std::string& port_name, bool modem_lines, int attempts) {
    const std::string tries = " (" + std::to_string(attempts) + " attempt" + (attempts == 1 ? "" : "s") + ")";
    const std::string into_download =
        modem_lines ? "hold BOOT (GPIO0) low while pressing RESET (EN), or check the board's DTR/RTS auto-reset "
                      "circuit; --before selects the reset sequence"
                    : "this port has no DTR/RTS lines, so otaflash cannot reset the chip: put it into download mode "
                      "by hand (hold BOOT / GPIO0 low while pressing RESET)";
    const std::string quoted = evidence.excerpt.empty() ? std::string{} : " ('" + evidence.excerpt + "')";
    switch (evidence.what) {
    case boot_evidence::kind::download_mode:
        return make_failure(errc::sync_failed,
                            "the chip on " + port_name + " is in download mode" + quoted +
                                " but never answered SYNC" + tries,
                            "the line from this computer to the chip seems broken (the chip's RX, a level shifter, a "
                            "TX wire), or another program is writing to the port");
    case boot_evidence::kind::normal_boot:
        return make_failure(errc::not_in_download_mode,
                            "the chip on " + port_name + " booted from flash (boot mode " + evidence.boot_mode +
                                "), not into the ROM download mode" + tries,
                            into_download);
    case boot_evidence::kind::panic:
        return make_failure(errc::not_in_download_mode,
                            "an application is running on " + port_name + " and crashing" + quoted +
                                "; the ROM bootloader never answered" + tries,
                            into_download);
    case boot_evidence::kind::application_text:
        return make_failure(errc::not_in_download_mode,
                            "something on " + port_name + " prints text" + quoted +
                                " but does not answer the ROM protocol: an application is running, or this is the "
                                "wrong port" + tries,
                            into_download + "; or choose the right port with -p");
    case boot_evidence::kind::unreadable:
        return make_failure(errc::sync_failed,
                            "only unreadable bytes came from " + port_name + " and no SYNC reply" + tries +
                                ": the other side talks at another baud rate, or it is not an Espressif chip",
                            "check -p; the ROM answers SYNC at 115200 (an ESP8266 prints its boot message at 74880, "
                            "which looks like this); " + into_download);
    case boot_evidence::kind::nothing: break;
    }
    return make_failure(errc::sync_failed, "no reply from " + port_name + tries,
                        "check that -p names the board's port, the cable carries data and the board is powered; " +
                            into_download);
}

}  // namespace otaflash::rom
