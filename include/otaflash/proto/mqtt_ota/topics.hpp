#pragma once
// Topic layouts of MQTT OTA as data (../shared/protocols/mqtt-ota.md §2, §3): a profile is a set of
// topic templates whose placeholders `{device}`, `{request}` and `{chunk}` each stand for one whole
// topic level. Profile `ota` names the device (its MQTT client id) in every topic; `thingsboard`
// uses ThingsBoard's literal `me`, so on a shared broker it cannot tell devices apart.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otaflash::proto::mqtt_ota {

// How payloads are written: ours (flat JSON, state codes) or ThingsBoard's (shared attributes,
// fw_state telemetry).
enum class dialect { ota, thingsboard };

struct topic_profile {
    std::string_view name;
    dialect speaks;
    std::string_view info_request;    // device -> server
    std::string_view info_response;   // server -> device
    std::string_view chunk_request;   // device -> server, payload: wanted size as decimal text
    std::string_view chunk_response;  // server -> device
    std::string_view state;           // device -> server: result codes / fw_state telemetry
    std::string_view command;         // server -> device: the trigger
    bool names_devices;               // false: every device is "me"
};

const topic_profile& ota_profile() noexcept;
const topic_profile& thingsboard_profile() noexcept;
// nullptr for an unknown name; profile_names() lists the known ones for messages.
const topic_profile* find_profile(std::string_view name) noexcept;
std::string_view profile_names() noexcept;

// The device a profile without device names reports as.
inline constexpr std::string_view unnamed_device = "me";

struct topic_fields {
    std::string device;
    std::string request;
    std::string chunk;
};

// The template with its placeholders filled in.
std::string expand(std::string_view pattern, const topic_fields& fields);
// The template with every placeholder as `+`, to subscribe to.
std::string subscription_filter(std::string_view pattern);
// The placeholders' values when `topic` fits the template: each is one non-empty level without
// wildcards; nullopt otherwise. A profile without {device} reports unnamed_device.
std::optional<topic_fields> match(std::string_view pattern, std::string_view topic);

// A device id (MQTT client id) fit to stand in a topic level: non-empty, no '/', '+', '#', NUL.
bool valid_topic_level(std::string_view level) noexcept;

}  // namespace otaflash::proto::mqtt_ota
