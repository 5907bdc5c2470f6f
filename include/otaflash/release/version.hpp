#pragma once
// How a device's version compares with a release's. The rule `serve --help` states: when both are
// semantic versions (MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD], an optional leading "v"), they
// are ordered as semver.org says (build metadata ignored); otherwise only equality is known, and
// any different text counts as "different" (seed 003: string inequality means update).

#include <string_view>

namespace otaflash::release {

enum class version_order { older, same, newer, different };

// Where `device` stands relative to `offered`: older means the offer is an update.
version_order compare_versions(std::string_view device, std::string_view offered);

// True when the device should not be offered `offered`: same, newer (no downgrades).
bool is_not_older(std::string_view device, std::string_view offered);

// True when `text` follows the semver rule above.
bool is_semantic(std::string_view text);

// Orders two release versions for "newest first": semantic versions by precedence, others and
// mixed pairs by text (so the order is total and stable).
bool newer_release(std::string_view a, std::string_view b);

}  // namespace otaflash::release
