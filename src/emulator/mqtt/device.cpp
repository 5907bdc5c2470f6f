#include "emulator/mqtt/device.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/util/crc32.hpp>

namespace otaflash::emulator::mqtt {

namespace mq = proto::mqtt_ota;
using namespace std::chrono_literals;

device::device(net::event_loop& loop, device_settings settings, const broker_settings& broker, event_sink& events,
               log_sink& log)
    : loop_(loop), settings_(std::move(settings)), broker_(broker), events_(events), log_(log),
      profile_(*mq::find_profile(settings_.profile)) {}

device::~device() {
    loop_.cancel_timer(timeout_);
    loop_.cancel_timer(delivery_);
    if (client_) client_->stop();
}

net::mqtt_client_options device::client_options() const {
    net::mqtt_client_options o;
    o.broker = broker_.url;
    o.client_id = settings_.id;
    o.username = broker_.username;
    o.password = broker_.password;
    o.ca_file = broker_.ca_file;
    o.keepalive = 30s;
    return o;
}

result<void> device::start() {
    started_ = std::chrono::steady_clock::now();
    triggered_ = !settings_.wait_trigger;
    connect();
    return client_->start();
}

void device::connect() {
    net::mqtt_client_events e;
    e.connected = [this] { on_connected(); };
    e.refused = [this](const failure& f) {
        events_.on_event(lost_event{settings_.id, f.message});
        finished_ = true;
    };
    e.lost = [this](std::string_view why) {
        if (!finished_) events_.on_event(lost_event{settings_.id, std::string(why)});
    };
    e.message = [this](std::string_view topic, byte_view payload) { on_message(topic, payload); };
    e.subscribed = [this](int) {
        if (--pending_subscriptions_ != 0) return;
        events_.on_event(connected_event{settings_.id, connected_before_});
        const bool again = connected_before_;
        connected_before_ = true;
        if (!triggered_ || finished_ || silent_) return;
        // After a reconnect the request in flight is asked again: the old answer may be lost.
        if (stage_ == stage::idle) begin_update();
        else if (again && stage_ == stage::info) ask_info();
        else if (again && stage_ == stage::chunks) ask_chunk();
    };
    client_ = std::make_unique<net::mqtt_client>(loop_, client_options(), std::move(e), log_);
}

void device::stop() {
    loop_.cancel_timer(timeout_);
    loop_.cancel_timer(delivery_);
    if (client_) client_->stop();
}

void device::on_connected() {
    const mq::topic_fields mine{settings_.id, "+", "+"};
    std::vector<std::string> filters{mq::expand(profile_.info_response, mine), mq::expand(profile_.chunk_response, mine),
                                     mq::expand(profile_.command, mine)};
    pending_subscriptions_ = static_cast<int>(filters.size());
    for (const auto& f : filters)
        if (client_->subscribe(f, 1) < 0) --pending_subscriptions_;
}

std::string device::request_id() const { return std::to_string(request_counter_); }

void device::on_message(std::string_view topic, byte_view payload) {
    if (finished_ || silent_) return;
    if (mq::match(profile_.command, topic)) {
        const bool is_trigger = profile_.speaks == mq::dialect::thingsboard ||
                                (payload.size() == 2 && payload[0] == mq::trigger_payload[0] && payload[1] == mq::trigger_payload[1]);
        if (is_trigger && !triggered_) {
            triggered_ = true;
            if (stage_ == stage::idle) begin_update();
        }
        return;
    }
    if (auto f = mq::match(profile_.info_response, topic)) {
        if (stage_ == stage::info && f->request == request_id()) on_info(payload);
        return;
    }
    if (auto f = mq::match(profile_.chunk_response, topic)) {
        const auto index = mq::parse_chunk_index(f->chunk);
        if (stage_ != stage::chunks || f->request != request_id() || index != chunk_) return;
        loop_.cancel_timer(timeout_);
        // The answer takes the link's time to arrive.
        bytes copy(payload.begin(), payload.end());
        std::weak_ptr<int> token = alive_;
        delivery_ = loop_.call_after(link_time(copy.size()), [this, token, i = *index, copy = std::move(copy)]() mutable {
            if (!token.expired()) on_chunk(i, std::move(copy));
        });
    }
}

void device::begin_update() {
    ++attempt_;
    ++request_counter_;
    image_.clear();
    chunk_ = 0;
    chunk_tries_ = 0;
    info_tries_ = 0;
    stage_ = stage::info;
    ask_info();
}

void device::ask_info() {
    ++info_tries_;
    const mq::topic_fields f{settings_.id, request_id(), {}};
    const std::string payload = mq::encode_info_request(profile_.speaks, {settings_.title, settings_.version});
    client_->publish(mq::expand(profile_.info_request, f), as_bytes(payload), 1);
    arm_timeout();
}

void device::arm_timeout() {
    loop_.cancel_timer(timeout_);
    const auto wait = settings_.reply_timeout + link_time(stage_ == stage::chunks ? settings_.chunk_size + 64 : 256);
    std::weak_ptr<int> token = alive_;
    timeout_ = loop_.call_after(wait, [this, token] {
        if (token.expired() || finished_ || silent_) return;
        timeout_ = 0;
        if (stage_ == stage::info) {
            if (info_tries_ > settings_.chunk_retries) return attempt_failed(4, "no answer to the info request");
            ask_info();
        } else if (stage_ == stage::chunks) {
            retry_chunk("no answer within " + std::to_string(settings_.reply_timeout.count()) + " ms");
        }
    });
}

void device::on_info(byte_view payload) {
    loop_.cancel_timer(timeout_);
    auto parsed = mq::parse_info_response(profile_.speaks, as_text(payload));
    if (!parsed) return attempt_failed(3, parsed.error().message);
    if (!*parsed) {
        events_.on_event(info_event{settings_.id, attempt_, false, {}, {}, 0, {}, {}});
        return finish(5, "firmware title not found");
    }
    info_ = **parsed;
    events_.on_event(info_event{settings_.id, attempt_, true, info_.title, info_.version, info_.size,
                                mq::crc32_text(info_.crc32), std::string(mq::framing_name(info_.chunks))});
    const std::string mine = settings_.faults.title_mismatch ? settings_.title + "-other" : settings_.title;
    // ThingsBoard's request names no title: the device still compares what comes back.
    if (info_.title != mine) return finish(1, "firmware title mismatch: offered " + info_.title + ", I am " + mine);
    if (info_.version == settings_.version || settings_.faults.same_version)
        return finish(6, "firmware version match: " + info_.version + " already");
    if (info_.size == 0) return finish(3, "the server offers an empty image");
    image_.reserve(info_.size);
    stage_ = stage::chunks;
    ask_chunk();
}

std::chrono::milliseconds device::link_time(std::size_t bytes) const {
    if (settings_.link_rate == 0) return 0ms;
    return std::chrono::milliseconds(bytes * 8 * 1000 / settings_.link_rate);
}

void device::ask_chunk() {
    ++chunk_tries_;
    const mq::topic_fields f{settings_.id, request_id(), std::to_string(chunk_)};
    const std::string size = std::to_string(settings_.chunk_size);
    client_->publish(mq::expand(profile_.chunk_request, f), as_bytes(size), 1);
    arm_timeout();
}

void device::retry_chunk(std::string reason) {
    if (chunk_tries_ > settings_.chunk_retries)
        return attempt_failed(7, "chunk " + std::to_string(chunk_) + " failed " + std::to_string(chunk_tries_) +
                                     " times (" + reason + ")");
    ++retries_;
    events_.on_event(retry_event{settings_.id, chunk_, chunk_tries_, std::move(reason)});
    ask_chunk();
}

void device::on_chunk(std::uint64_t index, bytes payload) {
    if (finished_ || silent_ || stage_ != stage::chunks || index != chunk_) return;
    const auto& faults = settings_.faults;
    if (!payload.empty() && ((faults.corrupt && *faults.corrupt == index) || (faults.corrupt_once && chunk_tries_ == 1)))
        payload[payload.size() / 2] ^= 0x5A;
    const std::uint64_t offset = static_cast<std::uint64_t>(index) * settings_.chunk_size;
    const std::uint64_t expected = std::min<std::uint64_t>(settings_.chunk_size, info_.size - offset);
    auto data = mq::unframe_chunk(info_.chunks, payload);
    if (!data) return retry_chunk("CRC-32 mismatch");
    if (data->size() != expected)
        return retry_chunk("got " + std::to_string(data->size()) + " bytes, expected " + std::to_string(expected));
    image_.insert(image_.end(), data->begin(), data->end());
    ++chunks_ok_;
    ++chunk_;
    chunk_tries_ = 0;
    if (image_.size() >= info_.size) {
        loop_.cancel_timer(timeout_);
        if (crc32(image_) != info_.crc32) return attempt_failed(7, "the image's CRC-32 does not match the info");
        return finish(mq::code_success, "OTA Update OK, Firmware Title: " + info_.title + " Ver: " + info_.version);
    }
    if (faults.die_after && chunks_ok_ >= *faults.die_after) return fault_stop("die-after");
    if (faults.silent_after && chunks_ok_ >= *faults.silent_after) {
        silent_ = true;
        loop_.cancel_timer(timeout_);
        events_.on_event(fault_event{settings_.id, "silent-after", chunks_ok_});
        return;
    }
    if (faults.reconnect_after && !reconnected_ && chunks_ok_ >= *faults.reconnect_after) {
        reconnected_ = true;
        loop_.cancel_timer(timeout_);
        events_.on_event(fault_event{settings_.id, "reconnect-after", chunks_ok_});
        // A new connection, as a modem that lost its bearer; the old client goes from the loop,
        // not from inside its own callback.
        std::weak_ptr<int> token = alive_;
        loop_.call_after(0ms, [this, token] {
            if (token.expired()) return;
            client_->stop();
            connect();
            (void)client_->start();
        });
        return;
    }
    ask_chunk();
}

void device::fault_stop(const std::string& fault) {
    finished_ = true;
    loop_.cancel_timer(timeout_);
    events_.on_event(fault_event{settings_.id, fault, chunks_ok_});
    std::weak_ptr<int> token = alive_;
    loop_.call_after(0ms, [this, token] {
        if (!token.expired() && client_) client_->stop();
    });
}

void device::attempt_failed(int code, std::string message) {
    if (attempt_ < settings_.attempts) {
        events_.on_event(retry_event{settings_.id, chunk_, 0, "update attempt " + std::to_string(attempt_) + " failed (" +
                                                                  std::to_string(code) + ": " + message + ")"});
        return begin_update();
    }
    finish(code, std::move(message));
}

void device::finish(int code, std::string message) {
    loop_.cancel_timer(timeout_);
    stage_ = stage::done;
    finished_ = true;
    result_event r{settings_.id, code, message, attempt_, 0, chunks_ok_, retries_, std::nullopt, std::nullopt, 0};
    if (code == mq::code_success) {
        r.bytes = image_.size();
        r.crc32 = mq::crc32_text(crc32(image_));
        if (!settings_.out.empty()) {
            if (auto written = write_file_atomic(settings_.out, image_); written) r.file = settings_.out;
            else r.message += " (not written: " + written.error().message + ")";
        }
    }
    r.ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count());
    mq::state_report report;
    report.code = code;
    report.message = message;
    report.title = settings_.title;
    report.version = code == mq::code_success ? info_.version : settings_.version;
    if (profile_.speaks == mq::dialect::thingsboard) report.state = code == mq::code_success ? "UPDATED" : "FAILED";
    client_->publish(mq::expand(profile_.state, {settings_.id, {}, {}}), as_bytes(mq::encode_state(profile_.speaks, report)), 1);
    events_.on_event(std::move(r));
}

}  // namespace otaflash::emulator::mqtt
