#include <otaflash/proto/espota/session.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/proto/espota/advice.hpp>
#include <otaflash/util/endpoint_text.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::espota {
namespace {

// An esp32 error line ("MD5 Check Failed\r\n") may arrive in pieces; this long without its line
// end, the text so far is the device's whole word.
constexpr millis text_grace{500};

std::string seconds_text(millis d) {
    const auto ms = d.count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

std::string ports_text(const std::vector<std::uint16_t>& ports) {
    std::string out;
    for (auto p : ports) {
        if (!out.empty()) out += ", ";
        out += std::to_string(p);
    }
    return out;
}

}  // namespace

session::session(session_config config) : config_(std::move(config)) {}

std::size_t session::write_size() const noexcept {
    // Larger writes in window mode only save system calls; the send buffer does the pacing.
    return config_.window <= 1 ? chunk_size : chunk_size * std::min(config_.window, 8u);
}

std::vector<std::uint16_t> session::target_ports() const {
    if (pinned_port_) return {*pinned_port_};
    return config_.device_ports;
}

std::string session::device_where() const {
    const auto ports = target_ports();
    if (ports.size() == 1) return endpoint_text(config_.device_address, ports.front());
    return bracketed(config_.device_address) + " (UDP ports " + ports_text(ports) + ")";
}

std::string session::cnonce(std::size_t length) {
    // Any hex of the right length works (the device only checks the length); derive each one from
    // the driver's random bytes so every attempt uses a different, unpredictable value.
    bytes seed = config_.entropy;
    seed.push_back(static_cast<std::uint8_t>(++cnonces_made_));
    std::string hex = to_hex(sha256(seed));
    hex.resize(length);
    return hex;
}

void session::log(step& out, log_level level, std::string text) { out.effects.emplace_back(log_note{level, std::move(text)}); }

void session::begin_phase(step& out, phase p, std::string detail, time_point now) {
    if (current_phase_) end_phase(out, phase_outcome::ok, now);
    current_phase_ = p;
    phase_begin_ = now;
    out.effects.emplace_back(phase_started{p, std::move(detail)});
}

void session::end_phase(step& out, phase_outcome outcome, time_point now) {
    if (!current_phase_) return;
    report_.phases.push_back(phase_timing{*current_phase_, phase_begin_, now, outcome});
    out.effects.emplace_back(phase_finished{*current_phase_, outcome});
    current_phase_.reset();
}

step session::finish_step(step out) {
    out.deadline = state_ == state::done ? std::nullopt : deadline_;
    return out;
}

// --- invitation ----------------------------------------------------------------------------------

step session::start(time_point now) {
    step out;
    if (state_ != state::idle) return finish_step(std::move(out));
    report_.started = now;
    begin_phase(out, phase::invite, "inviting " + device_where(), now);
    invite(out, now);
    return finish_step(std::move(out));
}

void session::invite(step& out, time_point now) {
    const std::string line = invitation(config_.cmd, config_.host_port, config_.image_size, config_.image_md5);
    for (auto port : target_ports()) out.effects.emplace_back(send_datagram{port, line, false});
    ++round_invitations_;
    ++report_.invitations;
    millis wait = config_.times.invite;
    for (unsigned i = 1; i < round_invitations_ && wait < config_.times.invite_max; ++i) wait *= 2;
    wait = std::min(wait, std::max(config_.times.invite_max, config_.times.invite));
    deadline_ = now + wait;
    state_ = state::inviting;
    log(out, log_level::debug, "invitation " + std::to_string(round_invitations_) + " sent to " + device_where() +
                                   ", waiting " + seconds_text(wait));
}

step session::on_datagram(std::uint16_t from_port, byte_view data, time_point now) {
    step out;
    const auto ports = target_ports();
    if (std::find(ports.begin(), ports.end(), from_port) == ports.end()) {
        log(out, log_level::debug, "ignored a datagram from port " + std::to_string(from_port));
        return finish_step(std::move(out));
    }
    const reply r = classify_reply(data);
    if (state_ == state::inviting) {
        report_.device_reply = printable(as_text(data));
        handle_invite_reply(out, from_port, r, now);
    } else if (state_ == state::authenticating) {
        report_.device_reply = printable(as_text(data));
        handle_auth_reply(out, r, now);
    } else {
        log(out, log_level::debug, "ignored a late datagram: \"" + printable(as_text(data)) + "\"");
    }
    return finish_step(std::move(out));
}

void session::handle_invite_reply(step& out, std::uint16_t port, const reply& r, time_point now) {
    switch (r.kind) {
    case reply_kind::ok:
        pinned_port_ = port;
        report_.device_port = port;
        if (!candidates_.empty())
            log(out, log_level::warn, "the device accepted a fresh invitation without asking for the password again");
        await_connection(out, now);
        return;
    case reply_kind::auth: {
        pinned_port_ = port;
        report_.device_port = port;
        const auto scheme = scheme_for_nonce(r.nonce);
        if (!scheme) {
            fail(out,
                 make_failure(errc::auth_scheme_unknown,
                              "the device asked for a password with a nonce of " + std::to_string(r.nonce.size()) +
                                  " characters (\"" + printable(r.nonce, 80) + "\")",
                              "otaflash knows 32-hex (MD5, esp8266/rp2040/esp32 core <= 3.3.0) and 64-hex (PBKDF2, "
                              "esp32 core >= 3.3.1) challenges; please report this device's firmware version"),
                 now);
            return;
        }
        nonce_ = r.nonce;
        if (scheme_ && *scheme_ != *scheme) {
            fail(out,
                 make_failure(errc::protocol_violation, "the device changed its authentication scheme between invitations",
                              "push again; if it repeats, please report the device's firmware version"),
                 now);
            return;
        }
        scheme_ = scheme;
        report_.scheme = scheme;
        if (current_phase_ == phase::invite)
            begin_phase(out, phase::auth, std::string{"challenge: "} + std::string{scheme_name(*scheme)}, now);
        if (candidates_.empty()) {
            if (!build_candidates(out, now)) return;
            if (candidates_.empty()) {
                if (config_.creds.can_prompt) {
                    state_ = state::awaiting_password;
                    deadline_.reset();
                    out.effects.emplace_back(ask_password{});
                    return;
                }
                fail(out,
                     make_failure(errc::password_unavailable,
                                  "the device " + device_where() + " asks for a password and none is available",
                                  "set OTAFLASH_PASSWORD, or use --password-file FILE or --password-stdin "
                                  "(a prompt is offered only on a terminal)"),
                     now);
                return;
            }
        }
        answer_challenge(out, now);
        return;
    }
    case reply_kind::error:
        fail(out, refusal_failure(r.text), now);
        return;
    case reply_kind::auth_failed:
        log(out, log_level::debug, "ignored a late \"Authentication Failed\"");
        return;
    case reply_kind::other:
        fail(out,
             make_failure(errc::protocol_violation,
                          device_where() + " answered with something that is not espota: \"" + printable(r.text) + "\"",
                          "check the port: 8266 (esp8266), 3232 (esp32), 2040 (rp2040), or the one the sketch set "
                          "with ArduinoOTA.setPort()"),
             now);
        return;
    }
}

bool session::build_candidates(step& out, time_point now) {
    const auto& creds = config_.creds;
    candidates_.clear();
    candidate_ = 0;
    if (!creds.stored_hash.empty()) {
        const auto hash = creds.stored_hash.reveal();
        if (*scheme_ == auth_scheme::md5_legacy && hash.size() != 32) {
            fail(out,
                 make_failure(errc::auth_failed,
                              "the device uses the legacy MD5 challenge, which needs the MD5 hash of the password, "
                              "but --password-hash is " + std::to_string(hash.size()) + " hex digits",
                              "give the password itself (OTAFLASH_PASSWORD, --password-file, --password-stdin) or its "
                              "MD5 hash (32 hex digits)"),
                 now);
            return false;
        }
        candidates_.push_back(candidate{creds.stored_hash, hash.size() == 32 ? "md5" : "sha256"});
        return true;
    }
    if (creds.password.empty()) return true;
    const auto password = creds.password.reveal();
    if (*scheme_ == auth_scheme::md5_legacy || creds.md5_only) {
        candidates_.push_back(candidate{secret{stored_hash_md5(password)}, "md5"});
    } else {
        candidates_.push_back(candidate{secret{stored_hash_sha256(password)}, "sha256"});
        candidates_.push_back(candidate{secret{stored_hash_md5(password)}, "md5"});
    }
    return true;
}

void session::answer_challenge(step& out, time_point now) {
    const candidate& c = candidates_[candidate_];
    const std::string client_nonce = cnonce(nonce_.size());
    const std::string response = auth_response(*scheme_, c.hash.reveal(), nonce_, client_nonce);
    out.effects.emplace_back(send_datagram{*pinned_port_, auth_request(client_nonce, response), true});
    ++report_.auth_attempts;
    report_.stored_hash = c.kind;
    state_ = state::authenticating;
    deadline_ = now + config_.times.auth;
    log(out, log_level::debug,
        std::string{"answering the "} + std::string{scheme_name(*scheme_)} + " challenge with the " + c.kind +
            " hash of the password");
}

void session::handle_auth_reply(step& out, const reply& r, time_point now) {
    switch (r.kind) {
    case reply_kind::ok:
        if (*scheme_ == auth_scheme::md5_legacy)
            report_.warnings.push_back(
                "the device uses the legacy MD5 challenge (esp8266, rp2040, esp32 core <= 3.3.0): a recorded exchange "
                "lets anyone try passwords offline; use a long random password, or esp32 core >= 3.3.1");
        else if (report_.stored_hash == "md5" && config_.creds.stored_hash.empty() && !config_.creds.md5_only)
            report_.warnings.push_back(
                "the device stores an MD5 hash of its password (setPasswordHash with an MD5 hash); esp32 core >= 3.3.1 "
                "expects setPassword() or a SHA-256 hash, and the MD5 fallback may go away");
        await_connection(out, now);
        return;
    case reply_kind::auth_failed:
        log(out, log_level::info, "the device rejected the " + candidates_[candidate_].kind + " hash of the password");
        next_candidate_or_fail(out, now);
        return;
    case reply_kind::auth:
        // An invitation we repeated reached the device after our answer to the first challenge:
        // the device now waits with this nonce, so answer it instead.
        if (report_.auth_attempts > 2 * (candidates_.size() + config_.times.invite_retries + 1)) {
            fail(out, make_failure(errc::protocol_violation, "the device keeps sending new challenges",
                                   "push again; if it repeats, please report the device's firmware version"),
                 now);
            return;
        }
        nonce_ = r.nonce;
        log(out, log_level::debug, "the device sent a new challenge (a repeated invitation reached it); answering it");
        answer_challenge(out, now);
        return;
    case reply_kind::error:
        // esp8266/rp2040 check the space only after a correct password: the password was right.
        end_phase(out, phase_outcome::ok, now);
        fail(out, refusal_failure(r.text), now);
        return;
    case reply_kind::other:
        fail(out,
             make_failure(errc::protocol_violation,
                          "the device answered the password with something that is not espota: \"" +
                              printable(r.text) + "\"",
                          "check the port and the device's firmware"),
             now);
        return;
    }
}

void session::next_candidate_or_fail(step& out, time_point now) {
    if (candidate_ + 1 < candidates_.size()) {
        // The device is idle again after a failed attempt and wants a fresh invitation and nonce.
        ++candidate_;
        round_invitations_ = 0;
        reinvited_after_silence_ = false;
        log(out, log_level::info, "trying the " + candidates_[candidate_].kind + " hash of the password with a fresh invitation");
        invite(out, now);
        return;
    }
    std::string tried;
    for (const auto& c : candidates_) tried += (tried.empty() ? "" : " and ") + c.kind;
    fail(out,
         make_failure(errc::auth_failed,
                      "the device " + device_where() + " rejected the password (Authentication Failed; tried the " +
                          tried + " hash" + (candidates_.size() > 1 ? "es" : "") + ")",
                      "check the password (OTAFLASH_PASSWORD, --password-file, --password-stdin) against the sketch's "
                      "ArduinoOTA.setPassword(); a --password-hash must be the lowercase hex the sketch gave "
                      "setPasswordHash()"),
         now);
}

step session::on_password(std::optional<secret> password, time_point now) {
    step out;
    if (state_ != state::awaiting_password) return finish_step(std::move(out));
    if (!password || password->empty()) {
        fail(out,
             make_failure(errc::password_unavailable, "the device asks for a password and none was entered",
                          "set OTAFLASH_PASSWORD, or use --password-file FILE or --password-stdin"),
             now);
        return finish_step(std::move(out));
    }
    config_.creds.password = std::move(*password);
    if (build_candidates(out, now)) answer_challenge(out, now);
    return finish_step(std::move(out));
}

// --- connect-back --------------------------------------------------------------------------------

void session::await_connection(step& out, time_point now) {
    begin_phase(out, phase::connect,
                "waiting for the device to connect to " + endpoint_text(config_.listen_address, config_.host_port), now);
    state_ = state::awaiting_connection;
    deadline_ = now + config_.times.accept;
}

step session::on_accepted(time_point now) {
    step out;
    if (state_ == state::inviting || state_ == state::authenticating) {
        // The OK datagram was lost (or is still on its way): the connection itself says "accepted".
        log(out, log_level::info, "the device connected before its OK arrived");
        begin_phase(out, phase::connect, "", now);
        state_ = state::awaiting_connection;
    }
    if (state_ != state::awaiting_connection) {
        out.effects.emplace_back(close_connection{true});
        log(out, log_level::debug, "closed an unexpected connection from the device");
        return finish_step(std::move(out));
    }
    connected_ = true;
    start_streaming(out, now);
    return finish_step(std::move(out));
}

// --- transfer ------------------------------------------------------------------------------------

void session::start_streaming(step& out, time_point now) {
    begin_phase(out, phase::upload,
                std::to_string(config_.image_size) + " bytes" +
                    (config_.window <= 1 ? std::string{", stop-and-wait"} : ", window " + std::to_string(config_.window)),
                now);
    report_.upload_started = now;
    state_ = state::streaming;
    last_progress_ = now;
    deadline_ = now + config_.times.ack;
    write_more(out);
}

void session::write_more(step& out) {
    if (in_flight_ > 0 || sent_ >= config_.image_size) return;
    if (config_.window <= 1 && awaiting_ack_) return;
    const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(write_size(), config_.image_size - sent_));
    in_flight_ = length;
    // Stop-and-wait: the next chunk goes after acknowledgement bytes that arrive from now on,
    // whether they come before or after this write's completion is reported.
    if (config_.window <= 1) awaiting_ack_ = true;
    out.effects.emplace_back(write_data{sent_, length});
}

step session::on_sent(std::size_t length, time_point now) {
    step out;
    if (state_ != state::streaming) return finish_step(std::move(out));
    in_flight_ = 0;
    sent_ += length;
    report_.bytes_sent = sent_;
    last_progress_ = now;
    out.effects.emplace_back(bytes_progress{sent_, config_.image_size});
    if (sent_ >= config_.image_size) {
        report_.upload_finished = now;
        begin_phase(out, phase::confirm, "waiting for the device to verify the image", now);
        state_ = state::confirming;
        result_deadline_ = now + config_.times.result;
        check_verdict(out, now);
    } else {
        write_more(out);
    }
    if (state_ == state::streaming) deadline_ = last_progress_ + config_.times.ack;
    else if (state_ == state::confirming) deadline_ = text_grace_ ? std::min(*text_grace_, result_deadline_) : result_deadline_;
    return finish_step(std::move(out));
}

step session::on_received(byte_view data, time_point now) {
    step out;
    if (state_ != state::streaming && state_ != state::confirming) return finish_step(std::move(out));
    if (acks_.feed(data) > 0) {
        last_progress_ = now;
        if (awaiting_ack_) {
            awaiting_ack_ = false;
            write_more(out);
        }
    }
    report_.ack_bytes = acks_.ack_bytes();
    if (acks_.result() == verdict::error && !text_grace_) text_grace_ = now + text_grace;
    check_verdict(out, now);
    if (state_ == state::streaming) deadline_ = text_grace_ ? std::min(*text_grace_, last_progress_ + config_.times.ack)
                                                            : last_progress_ + config_.times.ack;
    else if (state_ == state::confirming) deadline_ = text_grace_ ? std::min(*text_grace_, result_deadline_) : result_deadline_;
    return finish_step(std::move(out));
}

void session::check_verdict(step& out, time_point now) {
    if (acks_.result() == verdict::ok) {
        // A write still in flight may be the last one: its completion can be reported after the
        // device's answer to it.
        if (state_ == state::confirming || sent_ + in_flight_ >= config_.image_size) {
            succeed(out, now);
            return;
        }
        fail(out,
             make_failure(errc::protocol_violation,
                          "the device said OK after only " + std::to_string(sent_) + " of " +
                              std::to_string(config_.image_size) + " bytes",
                          "the update may not be complete: push again and check the device's serial log"),
             now);
        return;
    }
    if (acks_.result() == verdict::error && acks_.text_complete()) {
        report_.device_result = printable(acks_.text());
        fail(out, final_text_failure(acks_.text()), now);
    }
}

step session::on_closed(bool reset, time_point now) {
    step out;
    if (state_ != state::streaming && state_ != state::confirming) return finish_step(std::move(out));
    connected_ = false;
    if (acks_.result() == verdict::error || acks_.text() == "O") {
        report_.device_result = printable(acks_.text());
        fail(out, final_text_failure(acks_.text()), now);
    } else if (state_ == state::streaming) {
        fail(out,
             make_failure(errc::connection_lost,
                          std::string{"the device "} + (reset ? "reset" : "closed") + " the connection after " +
                              std::to_string(sent_) + " of " + std::to_string(config_.image_size) + " bytes",
                          "the device gave up on the update (see its serial log); push again"),
             now);
    } else if (reset) {
        fail(out,
             make_failure(errc::connection_lost,
                          "the device reset the connection after all " + std::to_string(sent_) +
                              " bytes were sent, without saying OK",
                          "the device may not have received everything; push again and check its serial log"),
             now);
    } else {
        fail(out,
             make_failure(errc::result_unconfirmed,
                          "the device closed the connection after all " + std::to_string(sent_) +
                              " bytes without saying OK",
                          "the update may or may not have been applied: check the device (serial log, version) or "
                          "push again"),
             now);
    }
    return finish_step(std::move(out));
}

// --- time ------------------------------------------------------------------------------------------

step session::on_timeout(time_point now) {
    step out;
    if (state_ == state::done || !deadline_ || now < *deadline_) return finish_step(std::move(out));
    switch (state_) {
    case state::inviting:
        if (round_invitations_ <= config_.times.invite_retries) {
            invite(out, now);
        } else if (!candidates_.empty()) {
            fail(out,
                 make_failure(errc::auth_no_reply,
                              "the device " + device_where() + " stopped answering invitations after an authentication "
                              "attempt failed",
                              "the device may have restarted; push again"),
                 now);
        } else {
            fail(out,
                 make_failure(errc::invite_no_reply,
                              "no answer from " + device_where() + " after " + std::to_string(round_invitations_) +
                                  " invitation" + (round_invitations_ == 1 ? "" : "s"),
                              "check the address and the port (8266 esp8266, 3232 esp32, 2040 rp2040, or the sketch's "
                              "ArduinoOTA.setPort()), that the sketch calls ArduinoOTA.handle() often, and that "
                              "nothing blocks UDP between here and the device"),
                 now);
        }
        break;
    case state::authenticating:
        if (candidate_ + 1 < candidates_.size()) {
            log(out, log_level::info, "no answer to the " + candidates_[candidate_].kind + " hash of the password");
            next_candidate_or_fail(out, now);
        } else if (round_invitations_ > 1 && !reinvited_after_silence_) {
            // A repeated invitation that reached a polling device after our answer put it back to
            // idle, so it ignored the answer: one fresh round settles it.
            reinvited_after_silence_ = true;
            round_invitations_ = 0;
            log(out, log_level::info, "no answer to the password; inviting again");
            invite(out, now);
        } else {
            fail(out,
                 make_failure(errc::auth_no_reply,
                              "the device " + device_where() + " did not answer the password within " +
                                  seconds_text(config_.times.auth),
                              "the device may have restarted or lost Wi-Fi; push again (raise --auth-timeout if the "
                              "sketch's loop is slow)"),
                 now);
        }
        break;
    case state::awaiting_connection:
        fail(out, no_connect_back_failure(config_.device_address, config_.listen_address, config_.host_port,
                                          config_.host_port_pinned),
             now);
        break;
    case state::streaming:
        if (text_grace_ && now >= *text_grace_) {
            report_.device_result = printable(acks_.text());
            fail(out, final_text_failure(acks_.text()), now);
        } else {
            fail(out,
                 make_failure(errc::ack_timeout,
                              "the transfer stalled: no progress for " + seconds_text(config_.times.ack) + " after " +
                                  std::to_string(sent_) + " of " + std::to_string(config_.image_size) + " bytes",
                              "the device stopped reading (hung, busy, or lost Wi-Fi); push again, or raise "
                              "--ack-timeout for a very slow link"),
                 now);
        }
        break;
    case state::confirming:
        if (text_grace_ && now >= *text_grace_) {
            report_.device_result = printable(acks_.text());
            fail(out, final_text_failure(acks_.text()), now);
        } else if (now >= result_deadline_) {
            fail(out,
                 make_failure(errc::result_unconfirmed,
                              "all " + std::to_string(sent_) + " bytes were sent but the device gave no verdict within " +
                                  seconds_text(config_.times.result),
                              "the update may or may not have been applied: check the device (serial log, version), "
                              "or raise --result-timeout"),
                 now);
        } else {
            deadline_ = result_deadline_;
        }
        break;
    case state::idle:
    case state::awaiting_password:
    case state::done:
        break;
    }
    return finish_step(std::move(out));
}

bool outcome_unknown(const session_report& r) noexcept {
    if (!r.error) return false;
    const condition c = condition_of(r.error->code);
    return c == condition::unconfirmed || (c == condition::interrupted && r.upload_finished.has_value());
}

step session::cancel(failure why, time_point now) {
    step out;
    if (state_ != state::done) fail(out, std::move(why), now);
    return finish_step(std::move(out));
}

// --- the end ---------------------------------------------------------------------------------------

void session::succeed(step& out, time_point now) {
    report_.device_result = "OK";
    end_phase(out, phase_outcome::ok, now);
    if (connected_) out.effects.emplace_back(close_connection{false});
    connected_ = false;
    state_ = state::done;
    deadline_.reset();
    report_.finished = now;
    out.effects.emplace_back(session_finished{});
}

void session::fail(step& out, failure why, time_point now) {
    end_phase(out, phase_outcome::failed, now);
    if (connected_) out.effects.emplace_back(close_connection{true});
    connected_ = false;
    state_ = state::done;
    deadline_.reset();
    report_.finished = now;
    report_.error = std::move(why);
    out.effects.emplace_back(session_finished{});
}

}  // namespace otaflash::espota
