#pragma once
// Which release a device gets. Every transport (HTTP, MQTT) asks the same catalog, so a device
// gets the same answer whichever way it asks. Pure: the caller passes what the device said.
//
// Rules, in order:
//   1. allow-list: when set, a device whose MAC is not on it (or that sends no MAC) is refused;
//   2. candidates: releases of the asked channel ("" = releases without channels or in "stable")
//      and title (when the device names one), for the device's chip family when it says one and
//      such a release exists (otherwise the other family's release is returned, and the transport
//      refuses it naming both chips);
//   3. a pin (MAC → version) selects that version among the candidates, or refuses when absent;
//   4. staged roll-out: with percent < 100, a device whose bucket (first 4 bytes of SHA-256 of
//      its normalized MAC, big-endian, mod 100) is ≥ percent gets the previous release of the
//      candidates instead, or none ("held back"); devices without a MAC are held back too;
//   5. otherwise the newest candidate (release::newer_release).

#include <otaflash/release/release.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::release {

struct policy {
    std::vector<std::string> allow;           // normalized MACs; empty: every device
    std::map<std::string, std::string> pins;  // normalized MAC → version
    unsigned rollout_percent = 100;           // 0..100
};

enum class chip_family { any, esp8266, esp32 };

struct device_query {
    std::string mac;        // normalized (normalize_mac) or empty
    std::string channel;    // "" = default
    std::string title;      // "" = any title
    chip_family family = chip_family::any;
};

struct selection {
    const release* chosen = nullptr;   // null: nothing for this device (see `reason`)
    bool refused = false;              // allow-list or pin: a 403, not a "no update"
    bool held_back = false;            // roll-out: the device waits for a later stage
    std::string reason;                // one line, set when chosen is null or held_back
};

// The roll-out bucket of a MAC, 0..99.
unsigned rollout_bucket(std::string_view normalized_mac);

class catalog {
public:
    catalog(std::vector<release> releases, policy rules);

    selection select(const device_query& query) const;

    // The newest release of `title` in `channel` ("" = default channel); null when none.
    // The MQTT side uses it when a device announces its title.
    const release* find_by_title(std::string_view title, std::string_view channel = {}) const;

    // The newest release of the default channel (or of `channel`); null when none. For /version,
    // /manifest.json and /releases/latest when the device sends no headers to choose by.
    const release* latest(std::string_view channel = {}) const;

    // Channels named by any release (for URLs below /<channel>/).
    std::vector<std::string> channels() const;

    const std::vector<release>& releases() const noexcept { return releases_; }
    const policy& rules() const noexcept { return rules_; }

private:
    std::vector<release> releases_;  // newest first
    policy rules_;
};

}  // namespace otaflash::release
