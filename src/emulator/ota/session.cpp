#include "emulator/ota/session.hpp"

#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <limits>

namespace otaflash::emulator::ota {
namespace {

using namespace std::chrono_literals;

// esp8266/pico Update.write(client) sleeps 1 ms between looks at the socket while data flows.
constexpr micros drain_step_delay = 1ms;
// After an ERR datagram the firmware waits 100 ms before listening again.
constexpr millis after_refusal_delay = 100ms;

std::string decimal(std::uint64_t n) { return std::to_string(n); }

}  // namespace

update_session::update_session(session_config config, accepted_update update)
    : config_(std::move(config)),
      kind_(*config_.kind),
      update_(std::move(update)),
      updater_(kind_.updater, config_.flash_space) {}

micros update_session::scaled(millis d) const {
    return std::chrono::duration_cast<micros>(std::chrono::duration<double, std::micro>(
        static_cast<double>(std::chrono::duration_cast<micros>(d).count()) * config_.time_scale));
}

micros update_session::flash_time(std::size_t bytes) const {
    if (config_.flash_rate == 0 || bytes == 0) return micros{0};
    return micros{static_cast<std::int64_t>(bytes * 1'000'000ull / config_.flash_rate)};
}

std::uint64_t update_session::fault_room() const noexcept {
    std::uint64_t room = std::numeric_limits<std::uint64_t>::max();
    if (config_.faults.drop_after) room = std::min(room, *config_.faults.drop_after - std::min(*config_.faults.drop_after, received_));
    if (config_.faults.stall_after) room = std::min(room, *config_.faults.stall_after - std::min(*config_.faults.stall_after, received_));
    return room;
}

std::string update_session::progress_text() const {
    return decimal(received_) + " of " + decimal(static_cast<std::uint64_t>(std::max(update_.request.size, 0))) + " bytes";
}

session_action update_session::play(script items) {
    script_.assign(std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
    return resume();
}

session_action update_session::resume() {
    if (script_.empty()) return finish(false, "transfer", "internal: the device model lost its place", "bug");
    session_action next = std::move(script_.front());
    script_.pop_front();
    if (std::holds_alternative<act::finished>(next)) done_ = true;
    return next;
}

act::finished update_session::finish(bool ok, std::string stage, std::optional<std::string> error, std::string detail) {
    act::finished f;
    f.event.ok = ok;
    f.event.command = update_.request.command;
    f.event.size = update_.request.size;
    f.event.received = received_;
    if (received_ > 0) f.event.md5 = to_hex(received_md5_.finish());
    f.event.error = std::move(error);
    f.event.stage = std::move(stage);
    f.event.detail = std::move(detail);
    return f;
}

session_action update_session::start() {
    const auto& request = update_.request;
    if (!updater_.begin(request.size, request.command, config_.faults.no_space)) {
        const std::string why = updater_.error_message() + (config_.faults.no_space ? " (fault no-space)" : "");
        if (update_.ok_sent)
            return play({finish(false, "begin", "no connection: Update.begin() failed (" + why + ")",
                                "the device had already said OK; it logs the error and sends nothing")});
        const std::string payload = "ERR: " + updater_.error_text();
        return play({act::send_datagram{update_.reply_to, payload}, act::pause{scaled(after_refusal_delay)},
                     finish(false, "begin", payload, "Update.begin() refused the update: " + why)});
    }
    updater_.set_md5(request.md5);

    script items;
    if (!update_.ok_sent) {
        items.emplace_back(act::send_datagram{update_.reply_to, "OK"});
        items.emplace_back(act::pause{scaled(kind_.connect_delay)});
    }
    if (config_.faults.no_connect)
        items.emplace_back(finish(false, "connect", "never connected back (fault no-connect)",
                                  "the device said OK and did not dial the host"));
    else
        items.emplace_back(act::connect{update_.connect_address, request.host_port, scaled(kind_.connect_timeout)});
    return play(std::move(items));
}

session_action update_session::on_connect(bool ok, const std::string& error) {
    if (!ok) {
        // The firmware falls through to Update.end(), which fails, and prints to a dead socket.
        (void)updater_.end();
        return play({finish(false, "connect",
                            "could not connect back to " + to_string(peer{update_.connect_address, update_.request.host_port}) +
                                ": " + error,
                            "Update.end() then failed with \"" + updater_.error_message() + "\"; nothing reached the host")});
    }
    if (config_.faults.connect_idle) return play({act::hold_connection{}});
    if (drop_due()) return drop_connection();
    return play(loop_top());
}

bool update_session::drop_due() const noexcept {
    return config_.faults.drop_after && received_ >= *config_.faults.drop_after;
}

update_session::script update_session::loop_top() const {
    // A stalled device has read and acked its N bytes; it stays in its loop doing nothing more.
    if (config_.faults.stall_after && received_ >= *config_.faults.stall_after) return {act::hold_connection{}};
    return {act::query_link{}};
}

session_action update_session::on_link(bool open) {
    if (updater_.finished() || !open) return go_end();
    return play({act::wait_for_data{scaled(kind_.receive_wait)}});
}

session_action update_session::on_wait(bool data_ready) {
    if (kind_.drain_reads) {
        // The wait ends without consequence either way (its counter runs past zero): the device
        // calls Update.write(client), which takes whatever is there.
        drained_ = 0;
        return play(read_more());
    }
    if (!data_ready) {
        if (last_written_ > 0 && tries_ < kind_.receive_retries) {
            ++tries_;
            auto items = script{act::send_bytes{decimal(last_written_)}};
            auto top = loop_top();
            items.insert(items.end(), top.begin(), top.end());
            return play(std::move(items));
        }
        updater_.abort();
        return play({act::flush_sent{}, act::close_connection{false},
                     finish(false, "transfer",
                            "receive timeout: nothing arrived for " +
                                decimal(static_cast<std::uint64_t>(kind_.receive_wait.count())) + " ms" +
                                (tries_ > 0 ? " after " + decimal(tries_) + " repeated acks" : std::string{}),
                            "\"Receive Failed\": Update aborted after " + progress_text() +
                                "; the device closed the connection without a word")});
    }
    tries_ = 0;
    const auto room = std::min<std::uint64_t>(kind_.max_read, fault_room());
    return play({act::read_available{static_cast<std::size_t>(room)}});
}

update_session::script update_session::read_more() {
    const auto room = std::min<std::uint64_t>(updater_.drain_room(), fault_room());
    if (room == 0) return end_drain();
    return {act::read_available{static_cast<std::size_t>(room)}};
}

update_session::script update_session::end_drain() {
    script items;
    if (drained_ > 0) items.emplace_back(act::send_bytes{decimal(drained_)});
    auto top = loop_top();
    items.insert(items.end(), top.begin(), top.end());
    return items;
}

updater::write_result update_session::consume(byte_view data) {
    bytes copy(data.begin(), data.end());
    if (config_.faults.bad_md5 && update_.request.size > 0) {
        const auto victim = static_cast<std::uint64_t>(update_.request.size - 1);
        if (victim >= received_ && victim < received_ + copy.size()) copy[victim - received_] ^= 0xFF;
    }
    received_ += copy.size();
    received_md5_.update(copy);
    return updater_.write(copy);
}

session_action update_session::on_read(byte_view data) {
    if (kind_.drain_reads) {
        if (data.empty()) return play(end_drain());
        const auto result = consume(data);
        drained_ += result.written;
        if (drop_due()) return drop_connection();
        script items;
        if (const auto busy = flash_time(result.flashed); busy.count() > 0) items.emplace_back(act::pause{busy});
        script rest;
        if (updater_.finished() || updater_.has_error()) {
            rest = end_drain();
        } else {
            rest = read_more();
            if (std::holds_alternative<act::read_available>(rest.front()))
                rest.insert(rest.begin(), act::pause{drain_step_delay});
        }
        items.insert(items.end(), rest.begin(), rest.end());
        return play(std::move(items));
    }

    const auto result = consume(data);
    if (drop_due()) return drop_connection();
    script items;
    if (const auto busy = flash_time(result.flashed); busy.count() > 0) items.emplace_back(act::pause{busy});
    // esp32 acks each write; a failed write (0) is only logged, and leaves nothing to repeat.
    last_written_ = result.written;
    if (result.written > 0) items.emplace_back(act::send_bytes{decimal(result.written)});
    auto top = loop_top();
    items.insert(items.end(), top.begin(), top.end());
    return play(std::move(items));
}

session_action update_session::drop_connection() {
    // Like a crash: the reset leaves at once, the last read is never acked.
    return play({act::close_connection{true},
                 finish(false, "transfer",
                        "connection reset by the device (fault drop-after=" + decimal(*config_.faults.drop_after) + ")",
                        "the device reset the connection after " + progress_text())});
}

session_action update_session::on_hold_ended() {
    const std::string fault = config_.faults.connect_idle
                                  ? std::string("connect-idle")
                                  : "stall-after=" + decimal(config_.faults.stall_after.value_or(0));
    return play({act::close_connection{false},
                  finish(false, "transfer", "stalled (fault " + fault + "): nothing more was read or sent",
                         "the host closed the connection after the device stopped reading at " + progress_text())});
}

session_action update_session::go_end() {
    const bool complete = updater_.finished() && !updater_.has_error() && updater_.running();
    if (config_.faults.end_error && complete) {
        const std::string& text = *config_.faults.end_error;
        return play({act::send_bytes{text}, act::flush_sent{}, act::close_connection{false},
                     finish(false, "end", text, "sent the end-error fault text instead of OK after " + progress_text())});
    }
    const bool write_failed = updater_.has_error();
    if (updater_.end()) {
        auto done = finish(true, "end", std::nullopt, "image received and verified: " + progress_text());
        done.image = updater_.flash();
        if (kind_.delay_before_ok.count() > 0)
            // Flush the last count and wait, so that OK is not merged with it (esp8266 PR #7204).
            return play({act::flush_sent{}, act::pause{scaled(kind_.delay_before_ok)}, act::send_bytes{"OK"},
                         act::flush_sent{}, act::pause{scaled(kind_.delay_after_ok)}, act::close_connection{false},
                         std::move(done)});
        return play({act::send_bytes{"OK"}, act::flush_sent{}, act::close_connection{false}, std::move(done)});
    }
    const std::string text = updater_.error_text();
    const std::string detail = complete ? "Update.end() failed: " + updater_.error_message()
                               : write_failed ? "Update.write() failed after " + progress_text() + ": " +
                                                            updater_.error_message()
                                                      : "the host closed the connection after " + progress_text();
    return play({act::send_bytes{text}, act::flush_sent{}, act::close_connection{false},
                 finish(false, complete ? "end" : "transfer", text, detail)});
}

}  // namespace otaflash::emulator::ota
