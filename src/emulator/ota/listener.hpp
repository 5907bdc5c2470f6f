#pragma once
// ArduinoOTA's UDP side as a state machine: idle → (AUTH challenge) → update pending. It answers
// datagrams exactly as the firmware does: replies to the invitation's source port (esp8266, pico)
// or to each datagram's source (esp32), silence for anything malformed, OK at once on esp32 and
// only after Update.begin() (from the loop, see `device_model`) on esp8266/pico.

#include "emulator/ota/events.hpp"
#include "emulator/ota/kind.hpp"
#include "emulator/ota/wire.hpp"

#include <otaflash/crypto/secret.hpp>
#include <otaflash/util/bytes.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::emulator::ota {

struct peer {
    std::string address;
    std::uint16_t port = 0;
};
std::string to_string(const peer& p);  // "127.0.0.1:40000", "[::1]:40000"

struct udp_reply {
    peer to;
    std::string payload;
};

// What setPassword() stores: the lowercase hex MD5 or SHA-256 of the password.
secret stored_password(std::string_view password, stored_hash hash);

// Nonces as the firmware makes them: hex MD5 of the decimal micros() text (legacy scheme); hex
// SHA-256 of random bytes for the PBKDF2 scheme (its real source is not known).
std::string legacy_nonce(std::uint64_t micros);
std::string pbkdf2_nonce(byte_view random_bytes);

struct listener_config {
    const kind_traits* kind = &traits(device_kind::esp8266);
    std::optional<secret> password;  // the stored string P; none = no AUTH
    bool silent = false;
    bool reject_auth = false;
    std::function<std::string(espota::auth_scheme)> make_nonce;
};

// An update the device accepted and will run from its loop.
struct accepted_update {
    invitation request;
    peer reply_to;                // where OK / ERR go (esp8266, pico)
    std::string connect_address;  // where the device dials back
    bool ok_sent = false;         // esp32 sent OK while parsing
};

struct listener_step {
    std::optional<udp_reply> reply;
    std::vector<device_event> events;
    std::string note;  // what the device did and why, for the debug log
};

class listener {
public:
    explicit listener(listener_config config);

    listener_step on_datagram(std::string_view payload, const peer& from);

    bool update_pending() const noexcept { return state_ == state::pending; }
    // The loop picked the update up; datagrams are dropped until `update_done()`.
    accepted_update take_update();
    void update_done() noexcept { state_ = state::idle; }

private:
    enum class state { idle, wait_auth, pending, updating };
    listener_step on_invitation(std::string_view payload, const peer& from);
    listener_step on_auth(std::string_view payload, const peer& from);
    void accept(const peer& answered, bool ok_sent);
    update_event attempt_ended(std::string stage, std::optional<std::string> error, std::string detail) const;
    peer reply_target(const peer& from) const;

    listener_config config_;
    state state_ = state::idle;
    invitation current_;
    peer invitation_from_;
    std::string nonce_;
    accepted_update accepted_;
};

}  // namespace otaflash::emulator::ota
