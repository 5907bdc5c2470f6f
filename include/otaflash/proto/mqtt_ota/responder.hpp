#pragma once
// The server side of MQTT OTA as a pure function of messages: (topic, payload) in, the publishes
// to answer with and the device events to report out. No broker, no clock: the io layer
// (net/mqtt_ota_server) carries the messages and times them.
//
// Chunk answers are stateless (offset = index x size), so several servers in one shared
// subscription group can answer any chunk. The only memory is which title a device asked for
// last (the chunk topics of both profiles carry no title) and how far its progress was reported.

#include <otaflash/proto/mqtt_ota/messages.hpp>
#include <otaflash/proto/mqtt_ota/topics.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace otaflash::proto::mqtt_ota {

// One release as the responder needs it; the bytes stay owned by the release store.
struct release_view {
    std::string_view title;
    std::string_view version;
    byte_view image;
    std::uint32_t crc32 = 0;  // of `image`
};

// Where releases come from (the serve catalog in the CLI, a fixed list in tests).
class release_lookup {
public:
    virtual ~release_lookup() = default;
    // Exact, case-sensitive title, as devices compare it.
    virtual std::optional<release_view> find(std::string_view title) const = 0;
    // The release when there is exactly one: the answer for requests that name no title
    // (ThingsBoard's, and chunk requests from a device whose info request went to a sibling server).
    virtual std::optional<release_view> only() const = 0;
};

struct mqtt_publish {
    std::string topic;
    bytes payload;
    int qos = 1;
    bool retain = false;  // never: a retained chunk would be replayed to the next device
};

// A device asked which firmware there is.
struct info_asked {
    std::string device;
    std::string title;     // as asked (ThingsBoard: empty)
    std::string version;   // the device's own
    std::optional<firmware_info> offered;  // nullopt: no release of that title
};

// A chunk was answered. `percent` is set when this chunk crossed the next 10 %.
struct chunk_served {
    std::string device;
    std::string title;
    std::uint64_t index = 0;
    std::uint64_t offset = 0;
    std::uint64_t bytes = 0;  // image bytes in the answer
    std::uint64_t total = 0;  // image size
    std::optional<int> percent;
};

struct state_reported {
    std::string device;
    state_report report;
};

// A message that was not answered as asked: malformed, or for a title nobody serves. `answered`
// says whether an error reply went out (ThingsBoard's v2/fw/error, an empty past-the-end chunk).
struct request_refused {
    std::string device;
    std::string topic;
    std::string reason;
    bool answered = false;
};

using responder_event = std::variant<info_asked, chunk_served, state_reported, request_refused>;

struct responder_output {
    std::vector<mqtt_publish> publishes;
    std::vector<responder_event> events;
};

class responder {
public:
    // `releases` must outlive the responder.
    responder(const topic_profile& profile, const release_lookup& releases, framing chunks);

    // Topic filters to subscribe to. With `share_group`, requests go through
    // `$share/<group>/...` (one server of the group gets each); state reports never do, so
    // every server sees every result.
    std::vector<std::string> subscriptions(std::string_view share_group = {}) const;

    responder_output on_message(std::string_view topic, byte_view payload);

    // What --trigger sends `device`: F9 01 on its command topic (ota), or the release's shared
    // attributes pushed unasked (ThingsBoard). nullopt when ThingsBoard has no single release.
    std::optional<mqtt_publish> trigger(std::string_view device) const;

    const topic_profile& profile() const noexcept { return profile_; }

private:
    responder_output on_info(const topic_fields& f, std::string_view topic, byte_view payload);
    responder_output on_chunk(const topic_fields& f, std::string_view topic, byte_view payload);
    responder_output on_state(const topic_fields& f, std::string_view topic, byte_view payload);
    std::optional<release_view> release_for(const std::string& device) const;
    firmware_info info_of(const release_view& r) const;

    const topic_profile& profile_;
    const release_lookup& releases_;
    framing chunks_;
    struct device_memory {
        std::string title;
        int reported_decile = 0;
    };
    std::map<std::string, device_memory, std::less<>> devices_;
};

}  // namespace otaflash::proto::mqtt_ota
