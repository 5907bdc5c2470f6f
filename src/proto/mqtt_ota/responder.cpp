#include <otaflash/proto/mqtt_ota/responder.hpp>

namespace otaflash::proto::mqtt_ota {
namespace {

bytes to_bytes(std::string_view text) { return bytes(text.begin(), text.end()); }

// Payload text for log lines: printable ASCII, at most 40 characters.
std::string shown(byte_view payload) {
    std::string out;
    for (const auto b : payload.first(std::min<std::size_t>(payload.size(), 40)))
        out.push_back(b >= 0x20 && b < 0x7f ? static_cast<char>(b) : '.');
    if (payload.size() > 40) out += "...";
    return out;
}

}  // namespace

responder::responder(const topic_profile& profile, const release_lookup& releases, framing chunks)
    : profile_(profile), releases_(releases), chunks_(chunks) {}

std::vector<std::string> responder::subscriptions(std::string_view share_group) const {
    const std::string prefix = share_group.empty() ? std::string() : "$share/" + std::string(share_group) + "/";
    return {prefix + subscription_filter(profile_.info_request), prefix + subscription_filter(profile_.chunk_request),
            subscription_filter(profile_.state)};
}

firmware_info responder::info_of(const release_view& r) const {
    return firmware_info{std::string(r.title), std::string(r.version), r.image.size(), r.crc32, default_chunk_size, chunks_};
}

std::optional<release_view> responder::release_for(const std::string& device) const {
    if (auto it = devices_.find(device); it != devices_.end() && !it->second.title.empty())
        if (auto r = releases_.find(it->second.title)) return r;
    return releases_.only();
}

responder_output responder::on_message(std::string_view topic, byte_view payload) {
    if (auto f = match(profile_.chunk_request, topic)) return on_chunk(*f, topic, payload);
    if (auto f = match(profile_.info_request, topic)) return on_info(*f, topic, payload);
    if (auto f = match(profile_.state, topic)) return on_state(*f, topic, payload);
    responder_output out;
    out.events.push_back(request_refused{{}, std::string(topic), "not a topic of profile " + std::string(profile_.name), false});
    return out;
}

responder_output responder::on_info(const topic_fields& f, std::string_view topic, byte_view payload) {
    responder_output out;
    auto request = parse_info_request(profile_.speaks, as_text(payload));
    if (!request) {
        out.events.push_back(request_refused{f.device, std::string(topic),
                                             request.error().message + ": '" + shown(payload) + "'", false});
        return out;
    }
    std::optional<release_view> release =
        profile_.speaks == dialect::thingsboard ? releases_.only() : releases_.find(request->title);
    std::optional<firmware_info> offered;
    std::string why;
    if (release) {
        offered = info_of(*release);
        auto& memory = devices_[f.device];
        memory.title = std::string(release->title);
        memory.reported_decile = 0;
    } else {
        why = "no release titled '" + request->title + "'";
    }
    out.publishes.push_back(mqtt_publish{expand(profile_.info_response, f),
                                         to_bytes(encode_info_response(profile_.speaks, offered, why))});
    out.events.push_back(info_asked{f.device, request->title, request->version, std::move(offered)});
    return out;
}

responder_output responder::on_chunk(const topic_fields& f, std::string_view topic, byte_view payload) {
    responder_output out;
    auto refuse = [&](std::string reason) {
        out.events.push_back(request_refused{f.device, std::string(topic), std::move(reason), false});
        return out;
    };
    const auto index = parse_chunk_index(f.chunk);
    if (!index) return refuse("chunk index '" + f.chunk + "' is not a decimal number");
    const auto release = release_for(f.device);
    if (!release) return refuse("no release to take chunks from: the device asked for no known title first");

    std::size_t size = 0;
    if (payload.empty() && profile_.speaks == dialect::thingsboard) {
        size = release->image.size();  // ThingsBoard: no size = the whole file
    } else if (auto asked = parse_chunk_size(as_text(payload))) {
        size = *asked;
    } else {
        return refuse("chunk size '" + shown(payload) + "' is not a number from 1 to " + std::to_string(max_chunk_size));
    }
    const std::uint64_t total = release->image.size();
    // index < 10^10 and size <= 64 KiB: the product cannot overflow 64 bits.
    const std::uint64_t offset = *index * size;
    if (offset >= total) {
        // An empty answer says "nothing there" at once instead of leaving the device to time out.
        out.publishes.push_back(mqtt_publish{expand(profile_.chunk_response, f), {}});
        out.events.push_back(request_refused{f.device, std::string(topic),
                                             "chunk " + f.chunk + " of " + std::to_string(size) + " bytes starts at " +
                                                 std::to_string(offset) + ", past the end of the " +
                                                 std::to_string(total) + "-byte image",
                                             true});
        return out;
    }
    const std::uint64_t count = std::min<std::uint64_t>(size, total - offset);
    const byte_view data = release->image.subspan(offset, count);
    out.publishes.push_back(mqtt_publish{expand(profile_.chunk_response, f), frame_chunk(chunks_, data)});

    chunk_served served{f.device, std::string(release->title), *index, offset, count, total, std::nullopt};
    auto& memory = devices_[f.device];
    if (offset == 0) memory.reported_decile = 0;
    const int decile = static_cast<int>((offset + count) * 10 / total);
    if (decile > memory.reported_decile) {
        memory.reported_decile = decile;
        served.percent = decile * 10;
    }
    out.events.push_back(std::move(served));
    return out;
}

responder_output responder::on_state(const topic_fields& f, std::string_view topic, byte_view payload) {
    responder_output out;
    auto report = parse_state(profile_.speaks, as_text(payload));
    if (!report) {
        out.events.push_back(request_refused{f.device, std::string(topic),
                                             report.error().message + ": '" + shown(payload) + "'", false});
        return out;
    }
    out.events.push_back(state_reported{f.device, std::move(*report)});
    return out;
}

std::optional<mqtt_publish> responder::trigger(std::string_view device) const {
    if (profile_.speaks == dialect::ota)
        return mqtt_publish{expand(profile_.command, {std::string(device), {}, {}}),
                            bytes(trigger_payload.begin(), trigger_payload.end())};
    const auto release = releases_.only();
    if (!release) return std::nullopt;
    // ThingsBoard pushes the same keys as the attributes response, without the "shared" wrapper.
    std::string shared = encode_info_response(dialect::thingsboard, info_of(*release));
    shared = shared.substr(std::string_view(R"({"shared":)").size());
    shared.pop_back();
    return mqtt_publish{std::string(profile_.command), to_bytes(shared)};
}

}  // namespace otaflash::proto::mqtt_ota
