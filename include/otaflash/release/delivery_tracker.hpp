#pragma once
// `serve --expect`: which expected devices have the release. Pure: the transports' events go in,
// "all done?" and the final per-device table come out; the CLI owns the deadline.

#include <otaflash/error.hpp>
#include <otaflash/release/device_event.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::release {

enum class delivery_state : std::uint8_t { waiting, delivered, already_current, failed };
std::string_view state_name(delivery_state state) noexcept;

class delivery_tracker {
public:
    // Ids are keyed with device_key(), so MACs match in any spelling. Duplicates count once.
    explicit delivery_tracker(const std::vector<std::string>& expected = {});

    bool expecting() const noexcept { return !entries_.empty(); }

    // Feeds one event; returns true when it completed the set (every expected device delivered or
    // already current). Delivered/already-current are final; a failure after them changes nothing,
    // a success after a failure replaces it. Unexpected devices and asked/progress are ignored.
    bool record(const device_event& event);

    bool all_done() const noexcept;

    struct entry {
        std::string device;
        delivery_state state = delivery_state::waiting;
        std::string detail;   // the last decision or failure
        std::optional<errc> code;
    };
    const std::vector<entry>& entries() const noexcept { return entries_; }

    // What the run ends with when not all_done(): some_targets_failed when an expected device's
    // last word was a failure or refusal, else expected_devices_missing; nullopt when all done.
    std::optional<errc> shortfall() const noexcept;

private:
    std::vector<entry> entries_;
};

}  // namespace otaflash::release
