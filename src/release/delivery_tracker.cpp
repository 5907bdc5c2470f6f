#include <otaflash/release/delivery_tracker.hpp>

#include <otaflash/release/release.hpp>

namespace otaflash::release {

std::string_view kind_name(event_kind kind) noexcept {
    switch (kind) {
    case event_kind::asked: return "asked";
    case event_kind::started: return "started";
    case event_kind::progress: return "progress";
    case event_kind::delivered: return "delivered";
    case event_kind::already_current: return "already_current";
    case event_kind::refused: return "refused";
    case event_kind::failed: return "failed";
    }
    return "unknown";
}

std::string_view state_name(delivery_state state) noexcept {
    switch (state) {
    case delivery_state::waiting: return "waiting";
    case delivery_state::delivered: return "delivered";
    case delivery_state::already_current: return "already_current";
    case delivery_state::failed: return "failed";
    }
    return "unknown";
}

delivery_tracker::delivery_tracker(const std::vector<std::string>& expected) {
    for (const auto& id : expected) {
        auto key = device_key(id);
        bool seen = false;
        for (const auto& e : entries_) seen = seen || e.device == key;
        if (!seen) entries_.push_back(entry{key, delivery_state::waiting, {}, {}});
    }
}

bool delivery_tracker::record(const device_event& event) {
    std::optional<delivery_state> outcome;
    switch (event.kind) {
    case event_kind::delivered: outcome = delivery_state::delivered; break;
    case event_kind::already_current: outcome = delivery_state::already_current; break;
    case event_kind::refused:
    case event_kind::failed: outcome = delivery_state::failed; break;
    default: return false;
    }
    auto key = device_key(event.device);
    for (auto& e : entries_) {
        if (e.device != key) continue;
        bool done = e.state == delivery_state::delivered || e.state == delivery_state::already_current;
        if (done) return false;
        e.state = *outcome;
        e.detail = event.decision;
        e.code = event.code;
        return *outcome != delivery_state::failed && all_done();
    }
    return false;
}

bool delivery_tracker::all_done() const noexcept {
    for (const auto& e : entries_)
        if (e.state != delivery_state::delivered && e.state != delivery_state::already_current) return false;
    return true;
}

std::optional<errc> delivery_tracker::shortfall() const noexcept {
    if (all_done()) return std::nullopt;
    for (const auto& e : entries_)
        if (e.state == delivery_state::failed) return errc::some_targets_failed;
    return errc::expected_devices_missing;
}

}  // namespace otaflash::release
