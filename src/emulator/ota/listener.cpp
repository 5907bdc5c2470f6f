#include "emulator/ota/listener.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/proto/espota/auth.hpp>
#include <otaflash/util/hex.hpp>

#include <type_traits>

namespace otaflash::emulator::ota {

std::string to_string(const peer& p) {
    const bool v6 = p.address.find(':') != std::string::npos;
    return (v6 ? "[" + p.address + "]" : p.address) + ":" + std::to_string(p.port);
}

secret stored_password(std::string_view password, stored_hash hash) {
    return secret(hash == stored_hash::md5 ? espota::stored_hash_md5(password) : espota::stored_hash_sha256(password));
}

std::string legacy_nonce(std::uint64_t micros) { return to_hex(md5(as_bytes(std::to_string(micros)))); }

std::string pbkdf2_nonce(byte_view random_bytes) { return to_hex(sha256(random_bytes)); }

namespace {
// The device drops the datagram without a word; `note` says why, for the debug log.
listener_step quiet(std::string note) {
    listener_step step;
    step.note = std::move(note);
    return step;
}
}  // namespace

listener::listener(listener_config config) : config_(std::move(config)) {}

peer listener::reply_target(const peer& from) const {
    return config_.kind->reply_to_invitation_port ? invitation_from_ : from;
}

update_event listener::attempt_ended(std::string stage, std::optional<std::string> error, std::string detail) const {
    update_event e;
    e.command = current_.command;
    e.size = current_.size;
    e.error = std::move(error);
    e.stage = std::move(stage);
    e.detail = std::move(detail);
    return e;
}

void listener::accept(const peer& answered, bool ok_sent) {
    accepted_.request = current_;
    accepted_.reply_to = invitation_from_;
    // esp8266/pico dial the invitation's source; esp32 the source of the datagram it said OK to.
    accepted_.connect_address = config_.kind->reply_to_invitation_port ? invitation_from_.address : answered.address;
    accepted_.ok_sent = ok_sent;
    state_ = state::pending;
}

accepted_update listener::take_update() {
    state_ = state::updating;
    return accepted_;
}

listener_step listener::on_datagram(std::string_view payload, const peer& from) {
    if (config_.silent) return quiet("ignored a datagram from " + to_string(from) + " (fault silent)");
    // parsePacket() reports an empty datagram as nothing at all on esp32; esp8266/pico parse it.
    if (payload.empty() && !config_.kind->async_udp) return quiet("ignored an empty datagram");
    if (config_.kind->datagram_limit && payload.size() > *config_.kind->datagram_limit)
        payload = payload.substr(0, *config_.kind->datagram_limit);
    switch (state_) {
    case state::idle: return on_invitation(payload, from);
    case state::wait_auth: return on_auth(payload, from);
    case state::pending:
    case state::updating: break;
    }
    return quiet("dropped a datagram from " + to_string(from) + ": an update is under way");
}

listener_step listener::on_invitation(std::string_view payload, const peer& from) {
    auto parsed = parse_invitation(payload, *config_.kind);
    if (auto* why = std::get_if<ignored>(&parsed))
        return quiet("no answer to " + to_string(from) + ": " + why->reason);
    current_ = std::get<invitation>(std::move(parsed));
    invitation_from_ = from;

    listener_step step;
    step.events.push_back(invitation_event{to_string(from), current_.command, current_.host_port, current_.size, current_.md5});
    if (config_.password) {
        nonce_ = config_.make_nonce(config_.kind->scheme);
        step.reply = udp_reply{reply_target(from), "AUTH " + nonce_};
        state_ = state::wait_auth;
        step.note = "challenged " + to_string(from);
        return step;
    }
    if (config_.kind->ok_before_begin) {
        step.reply = udp_reply{from, "OK"};
        accept(from, true);
        step.note = "accepted the invitation from " + to_string(from) + "; OK sent before Update.begin()";
    } else {
        accept(from, false);
        step.note = "accepted the invitation from " + to_string(from) + "; OK follows Update.begin() in the loop";
    }
    return step;
}

listener_step listener::on_auth(std::string_view payload, const peer& from) {
    auto parsed = parse_auth(payload, *config_.kind);
    if (auto* why = std::get_if<ignored>(&parsed)) {
        state_ = state::idle;
        listener_step step;
        step.note = "no answer to " + to_string(from) + ", back to idle: " + why->reason;
        step.events.push_back(attempt_ended("auth", "no answer: " + why->reason, "AUTH datagram not accepted; the device went back to idle without a word"));
        return step;
    }
    const auto& auth = std::get<auth_request>(parsed);
    const auto scheme = config_.kind->scheme;
    const std::string expected = espota::auth_response(scheme, config_.password->reveal(), nonce_, auth.cnonce);
    // Case-sensitive comparison of text: an uppercase response never matches.
    const bool ok = !config_.reject_auth && expected == auth.response;

    listener_step step;
    step.events.push_back(auth_event{ok, std::string(espota::scheme_name(scheme))});
    if (!ok) {
        step.reply = udp_reply{reply_target(from), "Authentication Failed"};
        state_ = state::idle;
        step.events.push_back(attempt_ended("auth", "Authentication Failed",
                                            config_.reject_auth ? "credentials rejected (fault reject-auth)"
                                                                : "wrong response to the challenge"));
        step.note = "authentication failed for " + to_string(from);
        return step;
    }
    if (config_.kind->ok_before_begin) {
        step.reply = udp_reply{from, "OK"};
        accept(from, true);
    } else {
        accept(from, false);
    }
    step.note = "authenticated " + to_string(from);
    return step;
}

}  // namespace otaflash::emulator::ota
