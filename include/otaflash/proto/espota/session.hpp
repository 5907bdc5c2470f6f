#pragma once
// The host side of one espota push as a sans-I/O state machine (../shared/protocols/espota.md
// §2–§6, §12). The driver feeds it events with the current time and performs the effects it
// returns; every timeout is decided here, the driver only arms one timer for `step::deadline`.
//
//   invite (retried with backoff) -> [auth: SHA-256, then MD5 stored hash on a fresh invitation]
//   -> wait for the device to connect back -> stream the image -> wait for "OK" or error text
//
// Streaming: with window 1 the session sends one 1460-byte chunk and waits for acknowledgement
// bytes, exactly like espota.py. With a larger window it keeps one write outstanding at all times
// and lets TCP flow control pace it; the driver bounds the socket's send buffer to `window`
// chunks. Acknowledgements cannot pace a window because they are counts without separators that
// reads glue and split arbitrarily ("14601460", "14"+"60"), so no exact byte count can be
// recovered; an undercount would stall a count-based window and fail a healthy transfer.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/error.hpp>
#include <otaflash/log.hpp>
#include <otaflash/progress.hpp>
#include <otaflash/proto/espota/ack_stream.hpp>
#include <otaflash/proto/espota/auth.hpp>
#include <otaflash/proto/espota/messages.hpp>
#include <otaflash/util/bytes.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace otaflash::espota {

using time_point = std::chrono::steady_clock::time_point;
using millis = std::chrono::milliseconds;

inline constexpr std::size_t chunk_size = 1460;  // espota.py's esp8266 chunk; one TCP segment on Wi-Fi
// Chunks the host may have queued beyond what the device has taken (see scripts/bench-push).
inline constexpr unsigned default_window = 16;

// Defaults follow espota.py (§9) where it has one; the invitation is retried with backoff where
// espota.py waited 10 s once (esp8266) or ten times (esp32).
struct timeouts {
    millis invite{2000};      // wait after the first invitation; each retry waits twice as long...
    millis invite_max{10000}; // ...up to this
    unsigned invite_retries = 4;
    millis auth{10000};
    millis accept{10000};
    millis ack{10000};        // no progress at all (no write accepted, no ack byte) for this long
    millis result{60000};     // after the last byte: the device verifies, then says OK
};

struct credentials {
    secret password;          // what the sketch passed to setPassword()
    secret stored_hash;       // or what the device stores (--password-hash): 32/64 lowercase hex
    bool md5_only = false;    // PBKDF2 devices: only the MD5 stored hash (espota.py -m)
    bool can_prompt = false;  // the driver may ask a person if the device wants a password
};

struct session_config {
    command cmd = command::flash;
    std::uint64_t image_size = 0;
    std::string image_md5;                    // lowercase hex of the whole file
    std::uint16_t host_port = 0;              // our connect-back listener
    bool host_port_pinned = false;            // the user chose it (--host-port)
    std::vector<std::uint16_t> device_ports;  // one, or several to probe from the same socket
    std::string device_address;               // for messages
    std::string listen_address;               // for messages: the address the device dials
    timeouts times;
    unsigned window = default_window;         // chunks; 1 = stop-and-wait
    bytes entropy;                            // random bytes (>= 16) the cnonces derive from
    credentials creds;
};

// --- what the driver must do, in order ---------------------------------------------------------
struct send_datagram {
    std::uint16_t port;   // the device's UDP port; the address is fixed for the session
    std::string payload;
    bool sensitive;       // an AUTH answer: never dump it in a trace
};
struct ask_password {};   // answer with on_password()
struct write_data {       // write image[offset, offset+length) and report on_sent(length)
    std::uint64_t offset;
    std::size_t length;
};
struct close_connection {
    bool abortive;        // RST (linger 0) so the device leaves its update loop at once
};
struct phase_started {
    phase which;
    std::string detail;
};
struct phase_finished {
    phase which;
    phase_outcome outcome;
};
struct bytes_progress {
    std::uint64_t done;
    std::uint64_t total;
};
struct log_note {
    log_level level;
    std::string text;
};
struct session_finished {};  // report() holds the outcome; release every socket

using effect = std::variant<send_datagram, ask_password, write_data, close_connection, phase_started,
                            phase_finished, bytes_progress, log_note, session_finished>;

struct step {
    std::vector<effect> effects;
    std::optional<time_point> deadline;  // call on_timeout then; replaces any earlier deadline
};

struct phase_timing {
    phase which;
    time_point begin;
    time_point end;
    phase_outcome outcome;
};

struct session_report {
    std::optional<failure> error;             // empty: the device confirmed with OK
    std::optional<std::uint16_t> device_port; // the port that answered
    std::optional<auth_scheme> scheme;        // set once the device asked for a password
    std::string stored_hash;                  // which hash of the password worked: "md5", "sha256"
    unsigned invitations = 0;
    unsigned auth_attempts = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t ack_bytes = 0;
    std::string device_reply;                 // the device's last UDP answer
    std::string device_result;                // the device's final words on TCP ("OK" or error text)
    std::vector<phase_timing> phases;
    std::vector<std::string> warnings;
    time_point started{};
    time_point finished{};
    std::optional<time_point> upload_started;
    std::optional<time_point> upload_finished;
};

// Whether the outcome is unknown: every byte went out but no verdict came (the result timeout, a
// clean close, or SIGINT/SIGTERM while the device verified the image). Such a device may have
// applied the update: reported as "unconfirmed", never as keeping its firmware.
bool outcome_unknown(const session_report& r) noexcept;

class session {
public:
    explicit session(session_config config);

    step start(time_point now);
    step on_datagram(std::uint16_t from_port, byte_view data, time_point now);
    step on_password(std::optional<secret> password, time_point now);
    step on_accepted(time_point now);
    step on_sent(std::size_t length, time_point now);
    step on_received(byte_view data, time_point now);
    step on_closed(bool reset, time_point now);  // reset: RST or a write error, not a clean FIN
    step on_timeout(time_point now);
    step cancel(failure why, time_point now);    // SIGINT, SIGTERM, a local error in the driver

    bool finished() const noexcept { return state_ == state::done; }
    const session_report& report() const noexcept { return report_; }
    const session_config& config() const noexcept { return config_; }

    // How many bytes one write_data asks for at most.
    std::size_t write_size() const noexcept;

private:
    enum class state { idle, inviting, awaiting_password, authenticating, awaiting_connection, streaming,
                       confirming, done };
    struct candidate {
        secret hash;
        std::string kind;  // "md5" / "sha256"
    };

    void invite(step& out, time_point now);
    void handle_invite_reply(step& out, std::uint16_t port, const reply& r, time_point now);
    void handle_auth_reply(step& out, const reply& r, time_point now);
    bool build_candidates(step& out, time_point now);
    void answer_challenge(step& out, time_point now);
    void next_candidate_or_fail(step& out, time_point now);
    void await_connection(step& out, time_point now);
    void start_streaming(step& out, time_point now);
    void write_more(step& out);
    void check_verdict(step& out, time_point now);
    void begin_phase(step& out, phase p, std::string detail, time_point now);
    void end_phase(step& out, phase_outcome outcome, time_point now);
    void succeed(step& out, time_point now);
    void fail(step& out, failure why, time_point now);
    void log(step& out, log_level level, std::string text);
    step finish_step(step out);
    std::vector<std::uint16_t> target_ports() const;
    std::string cnonce(std::size_t length);
    std::string device_where() const;

    session_config config_;
    session_report report_;
    state state_ = state::idle;
    std::optional<phase> current_phase_;
    time_point phase_begin_{};

    // invitation / auth
    std::optional<std::uint16_t> pinned_port_;
    unsigned round_invitations_ = 0;  // invitations sent since the last fresh round began
    bool reinvited_after_silence_ = false;
    std::string nonce_;
    std::optional<auth_scheme> scheme_;
    std::vector<candidate> candidates_;
    std::size_t candidate_ = 0;
    unsigned cnonces_made_ = 0;
    std::optional<time_point> deadline_;

    // transfer
    bool connected_ = false;
    std::uint64_t sent_ = 0;
    std::size_t in_flight_ = 0;
    bool awaiting_ack_ = false;
    time_point last_progress_{};
    ack_stream acks_;
    std::optional<time_point> text_grace_;
    time_point result_deadline_{};
};

}  // namespace otaflash::espota
