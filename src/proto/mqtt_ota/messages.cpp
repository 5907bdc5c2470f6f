#include <otaflash/proto/mqtt_ota/messages.hpp>

#include <otaflash/util/crc32.hpp>
#include <otaflash/util/flat_json.hpp>

#include <charconv>

namespace otaflash::proto::mqtt_ota {
namespace {

failure malformed(std::string what) {
    return make_failure(errc::protocol_violation, std::move(what));
}

std::string number(std::uint64_t n) { return std::to_string(n); }

// ThingsBoard nests the attributes one level: {"shared":{...}}. The flat reader takes the inner
// object once the wrapper is peeled off exactly.
std::optional<std::string_view> inner_object(std::string_view payload, std::string_view key) {
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
        return s;
    };
    std::string_view s = trim(payload);
    if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
    s = trim(s.substr(1, s.size() - 2));
    const std::string quoted = flat_json::quote(key);
    if (s.substr(0, quoted.size()) != quoted) return std::nullopt;
    s = trim(s.substr(quoted.size()));
    if (s.empty() || s.front() != ':') return std::nullopt;
    return trim(s.substr(1));
}

}  // namespace

std::string_view framing_name(framing f) noexcept { return f == framing::crc32 ? "crc32" : "raw"; }

std::optional<framing> parse_framing(std::string_view name) noexcept {
    if (name == "crc32") return framing::crc32;
    if (name == "raw") return framing::raw;
    return std::nullopt;
}

std::string crc32_text(std::uint32_t crc) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i, crc >>= 4) out[static_cast<std::size_t>(i)] = digits[crc & 0xF];
    return out;
}

std::string encode_info_request(dialect d, const info_request& request) {
    if (d == dialect::thingsboard)
        return flat_json::write({{"sharedKeys", flat_json::quote("fw_title,fw_version,fw_size,fw_checksum,fw_checksum_algorithm")}});
    return flat_json::write({{"title", flat_json::quote(request.title)}, {"version", flat_json::quote(request.version)}});
}

result<info_request> parse_info_request(dialect d, std::string_view payload) {
    auto object = flat_json::parse(payload);
    if (!object) return malformed("the info request is not a flat JSON object");
    if (d == dialect::thingsboard) return info_request{};
    const std::string* title = flat_json::string_at(*object, "title");
    if (!title) return malformed("the info request has no \"title\" string");
    const std::string* version = flat_json::string_at(*object, "version");
    return info_request{*title, version ? *version : std::string()};
}

std::string encode_info_response(dialect d, const std::optional<firmware_info>& release, std::string_view why) {
    if (d == dialect::thingsboard) {
        if (!release) return R"({"shared":{}})";
        return flat_json::write({{"shared", flat_json::write({{"fw_title", flat_json::quote(release->title)},
                                                              {"fw_version", flat_json::quote(release->version)},
                                                              {"fw_size", number(release->size)},
                                                              {"fw_checksum", flat_json::quote(crc32_text(release->crc32))},
                                                              {"fw_checksum_algorithm", flat_json::quote("CRC32")}})}});
    }
    if (!release) return flat_json::write({{"error", flat_json::quote(why)}});
    return flat_json::write({{"title", flat_json::quote(release->title)},
                             {"version", flat_json::quote(release->version)},
                             {"size", number(release->size)},
                             {"crc32", flat_json::quote(crc32_text(release->crc32))},
                             {"chunk_size", number(release->chunk_size)},
                             {"framing", flat_json::quote(framing_name(release->chunks))}});
}

result<std::optional<firmware_info>> parse_info_response(dialect d, std::string_view payload) {
    std::optional<flat_json::object> object;
    if (d == dialect::thingsboard) {
        const auto inner = inner_object(payload, "shared");
        if (!inner) return malformed("the attributes response has no \"shared\" object");
        object = flat_json::parse(*inner);
    } else {
        object = flat_json::parse(payload);
    }
    if (!object) return malformed("the info response is not a flat JSON object");
    const bool tb = d == dialect::thingsboard;
    const std::string* title = flat_json::string_at(*object, tb ? "fw_title" : "title");
    if (!title) return std::optional<firmware_info>{};
    const std::string* version = flat_json::string_at(*object, tb ? "fw_version" : "version");
    const auto size = flat_json::integer_at(*object, tb ? "fw_size" : "size");
    const std::string* crc = flat_json::string_at(*object, tb ? "fw_checksum" : "crc32");
    if (!version || !size || *size < 0 || !crc) return malformed("the info response lacks version, size or crc32");
    std::uint32_t crc_value = 0;
    const auto [end, ec] = std::from_chars(crc->data(), crc->data() + crc->size(), crc_value, 16);
    if (crc->size() != 8 || ec != std::errc{} || end != crc->data() + crc->size())
        return malformed("the info response's crc32 is not 8 hex digits: " + *crc);
    firmware_info out{*title, *version, static_cast<std::uint64_t>(*size), crc_value, default_chunk_size,
                      tb ? framing::raw : framing::crc32};
    if (!tb) {
        if (auto chunk = flat_json::integer_at(*object, "chunk_size"); chunk && *chunk > 0)
            out.chunk_size = static_cast<std::size_t>(*chunk);
        if (const std::string* f = flat_json::string_at(*object, "framing")) {
            auto parsed = parse_framing(*f);
            if (!parsed) return malformed("unknown framing \"" + *f + "\"");
            out.chunks = *parsed;
        }
    }
    return std::optional<firmware_info>{std::move(out)};
}

bytes frame_chunk(framing f, byte_view data) {
    bytes out(data.begin(), data.end());
    if (f == framing::crc32) append_le32(out, crc32(data));
    return out;
}

std::optional<byte_view> unframe_chunk(framing f, byte_view payload) {
    if (f == framing::raw) return payload;
    if (payload.size() < crc_trailer_size) return std::nullopt;
    const byte_view data = payload.first(payload.size() - crc_trailer_size);
    if (load_le32(payload.data() + data.size()) != crc32(data)) return std::nullopt;
    return data;
}

std::optional<std::uint64_t> parse_chunk_index(std::string_view text) noexcept {
    if (text.empty() || text.size() > 10) return std::nullopt;
    std::uint64_t out = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return out;
}

std::optional<std::size_t> parse_chunk_size(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\r' || text.front() == '\n')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
    if (text.empty() || text.size() > 7) return std::nullopt;
    std::size_t out = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        out = out * 10 + static_cast<std::size_t>(c - '0');
    }
    if (out == 0 || out > max_chunk_size) return std::nullopt;
    return out;
}

std::string_view code_meaning(int code) noexcept {
    switch (code) {
    case 1: return "firmware title mismatch";
    case 2: return "hardware not supported";
    case 3: return "command format error";
    case 4: return "OTA server connection timeout";
    case 5: return "firmware title not found";
    case 6: return "firmware version match (no update needed)";
    case 7: return "firmware checksum error";
    case code_success: return "OTA update successful, waiting for reboot";
    default: return {};
    }
}

bool state_report::final() const noexcept {
    if (code) return is_result_code(*code);
    return state == "UPDATED" || state == "FAILED";
}

std::string encode_state(dialect d, const state_report& report) {
    if (d == dialect::thingsboard) {
        std::vector<std::pair<std::string_view, std::string>> members{
            {"current_fw_title", flat_json::quote(report.title)},
            {"current_fw_version", flat_json::quote(report.version)},
            {"fw_state", flat_json::quote(report.state)}};
        if (report.state == "FAILED") members.emplace_back("fw_error", flat_json::quote(report.message));
        return flat_json::write(members);
    }
    return flat_json::write({{"code", std::to_string(report.code.value_or(0))},
                             {"message", flat_json::quote(report.message)},
                             {"title", flat_json::quote(report.title)},
                             {"version", flat_json::quote(report.version)}});
}

result<state_report> parse_state(dialect d, std::string_view payload) {
    auto object = flat_json::parse(payload);
    if (!object) return malformed("the state report is not a flat JSON object");
    auto text = [&](std::string_view key) {
        const std::string* s = flat_json::string_at(*object, key);
        return s ? *s : std::string();
    };
    state_report out;
    if (d == dialect::thingsboard) {
        out.state = text("fw_state");
        if (out.state.empty()) return malformed("the telemetry has no fw_state");
        if (out.state == "UPDATED") out.code = code_success;
        out.message = text("fw_error");
        out.title = text("current_fw_title");
        out.version = text("current_fw_version");
        return out;
    }
    out.code = flat_json::integer_at(*object, "code");
    if (!out.code) return malformed("the state report has no integer \"code\"");
    out.message = text("message");
    out.title = text("title");
    out.version = text("version");
    return out;
}

}  // namespace otaflash::proto::mqtt_ota
