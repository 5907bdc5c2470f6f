#include <otaflash/proto/mqtt_ota/topics.hpp>

namespace otaflash::proto::mqtt_ota {
namespace {

constexpr topic_profile ota{
    "ota",
    dialect::ota,
    "ota/{device}/info/request/{request}",
    "ota/{device}/info/response/{request}",
    "ota/{device}/fw/request/{request}/chunk/{chunk}",
    "ota/{device}/fw/response/{request}/chunk/{chunk}",
    "ota/{device}/state",
    "ota/{device}/cmd",
    true,
};

// ThingsBoard pushes a new assignment as shared attributes; that is its trigger.
constexpr topic_profile thingsboard{
    "thingsboard",
    dialect::thingsboard,
    "v1/devices/me/attributes/request/{request}",
    "v1/devices/me/attributes/response/{request}",
    "v2/fw/request/{request}/chunk/{chunk}",
    "v2/fw/response/{request}/chunk/{chunk}",
    "v1/devices/me/telemetry",
    "v1/devices/me/attributes",
    false,
};

// Splits at '/', keeping empty levels.
std::vector<std::string_view> levels(std::string_view topic) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        const auto slash = topic.find('/', start);
        out.push_back(topic.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (slash == std::string_view::npos) return out;
        start = slash + 1;
    }
}

std::string* field(topic_fields& f, std::string_view placeholder) {
    if (placeholder == "{device}") return &f.device;
    if (placeholder == "{request}") return &f.request;
    if (placeholder == "{chunk}") return &f.chunk;
    return nullptr;
}

}  // namespace

const topic_profile& ota_profile() noexcept { return ota; }
const topic_profile& thingsboard_profile() noexcept { return thingsboard; }

const topic_profile* find_profile(std::string_view name) noexcept {
    if (name == ota.name) return &ota;
    if (name == thingsboard.name) return &thingsboard;
    return nullptr;
}

std::string_view profile_names() noexcept { return "ota, thingsboard"; }

bool valid_topic_level(std::string_view level) noexcept {
    return !level.empty() && level.find_first_of(std::string_view("/+#\0", 4)) == std::string_view::npos;
}

std::string expand(std::string_view pattern, const topic_fields& fields) {
    std::string out;
    topic_fields copy = fields;
    for (const auto level : levels(pattern)) {
        if (!out.empty()) out.push_back('/');
        const std::string* value = field(copy, level);
        out += value ? std::string_view(*value) : level;
    }
    return out;
}

std::string subscription_filter(std::string_view pattern) {
    std::string out;
    topic_fields unused;
    bool first = true;
    for (const auto level : levels(pattern)) {
        if (!first) out.push_back('/');
        first = false;
        out += field(unused, level) ? std::string_view("+") : level;
    }
    return out;
}

std::optional<topic_fields> match(std::string_view pattern, std::string_view topic) {
    const auto want = levels(pattern);
    const auto got = levels(topic);
    if (want.size() != got.size()) return std::nullopt;
    topic_fields out;
    out.device = unnamed_device;
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (std::string* value = field(out, want[i])) {
            if (!valid_topic_level(got[i])) return std::nullopt;
            *value = got[i];
        } else if (want[i] != got[i]) {
            return std::nullopt;
        }
    }
    return out;
}

}  // namespace otaflash::proto::mqtt_ota
