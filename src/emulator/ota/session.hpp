#pragma once
// One update as the firmware's _runUpdate() performs it, from Update.begin() to the last byte on
// the TCP connection, as a sans-I/O state machine: each call returns the next thing the device
// does (send a datagram, dial, wait for data, read what is there, ack, pause, close), and the
// driver reports what came of it. Kind differences (read sizes, acks, receive timeout and retries,
// delays around OK, error texts) and the faults all live here; the driver only moves bytes and
// arms timers.

#include "emulator/ota/events.hpp"
#include "emulator/ota/faults.hpp"
#include "emulator/ota/kind.hpp"
#include "emulator/ota/listener.hpp"
#include "emulator/ota/updater.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/bytes.hpp>

#include <chrono>
#include <deque>
#include <vector>
#include <string>
#include <variant>

namespace otaflash::emulator::ota {

using micros = std::chrono::microseconds;

namespace act {
struct send_datagram { peer to; std::string payload; };
struct pause { micros duration; };                 // delay() or flash busy: nothing is read meanwhile
struct connect { std::string address; std::uint16_t port; micros timeout; };
struct query_link {};                              // client.connected() || client.available()
struct wait_for_data { micros timeout; };          // until bytes are available or the time is up
struct read_available { std::size_t max; };        // what is there now, up to max; never waits
struct send_bytes { std::string bytes; };          // queued; leaves after --ack-latency, in order
struct flush_sent {};                              // until everything queued has left
struct close_connection { bool reset; };           // FIN after discarding unread input, or RST
struct hold_connection {};                         // neither read nor close until the host closes
struct finished { update_event event; bytes image; };  // image: what to store (success only)
}  // namespace act

using session_action = std::variant<act::send_datagram, act::pause, act::connect, act::query_link,
                                    act::wait_for_data, act::read_available, act::send_bytes, act::flush_sent,
                                    act::close_connection, act::hold_connection, act::finished>;

struct session_config {
    const kind_traits* kind = &traits(device_kind::esp8266);
    fault_set faults;
    std::uint64_t flash_space = 1u << 20;
    std::uint64_t flash_rate = 0;  // bytes per second; 0 = flashing takes no time
    double time_scale = 1.0;       // multiplies the device's own delays and timeouts (tests only)
};

class update_session {
public:
    update_session(session_config config, accepted_update update);

    session_action start();
    // After send_datagram, pause, send_bytes, flush_sent and close_connection.
    session_action resume();
    session_action on_connect(bool ok, const std::string& error);
    session_action on_link(bool open);
    session_action on_wait(bool data_ready);
    session_action on_read(byte_view data);
    session_action on_hold_ended();

    bool done() const noexcept { return done_; }

private:
    using script = std::vector<session_action>;
    // Plays fixed sequences: `resume()` hands out the next item until one needs an answer.
    session_action play(script items);
    script loop_top() const;
    script end_drain();
    script read_more();
    updater::write_result consume(byte_view data);
    bool drop_due() const noexcept;
    session_action drop_connection();
    session_action go_end();
    act::finished finish(bool ok, std::string stage, std::optional<std::string> error, std::string detail);
    micros scaled(millis d) const;
    micros flash_time(std::size_t bytes) const;
    // Bytes the device may still read before a drop-after / stall-after fault strikes.
    std::uint64_t fault_room() const noexcept;
    std::string progress_text() const;

    session_config config_;
    const kind_traits& kind_;
    accepted_update update_;
    updater updater_;
    hasher received_md5_{digest_kind::md5};
    std::deque<session_action> script_;
    bool done_ = false;
    std::uint64_t received_ = 0;
    std::size_t drained_ = 0;       // esp8266/pico: bytes taken in the current Update.write(client)
    std::size_t last_written_ = 0;  // esp32: the count the retries re-send
    unsigned tries_ = 0;
};

}  // namespace otaflash::emulator::ota
