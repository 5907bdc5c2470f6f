#pragma once
// MQTT OTA payloads (../shared/protocols/mqtt-ota.md): info request and response, chunk framing,
// state reports and their codes, the trigger. Written and read here for both sides: the server
// (otaflash serve --mqtt) and the emulated device, so the two cannot drift apart.

#include <otaflash/proto/mqtt_ota/topics.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::proto::mqtt_ota {

// crc32: the data the device asked for, then the CRC-32 (IEEE, zlib) of that data as 4 bytes
// little-endian (the seed's 1024 + 4). raw: the data only (ThingsBoard).
enum class framing : std::uint8_t { crc32, raw };
std::string_view framing_name(framing f) noexcept;
std::optional<framing> parse_framing(std::string_view name) noexcept;

// What the server advertises; devices may ask for any size from 1 to max_chunk_size.
inline constexpr std::size_t default_chunk_size = 1024;
// Larger requests are refused: a chunk is one MQTT message held in memory on both sides.
inline constexpr std::size_t max_chunk_size = 64 * 1024;
inline constexpr std::size_t crc_trailer_size = 4;

// The seed's downlink that starts an update: F9 01.
inline constexpr std::array<std::uint8_t, 2> trigger_payload{0xF9, 0x01};

struct info_request {
    std::string title;    // empty in ThingsBoard's request, which names keys, not a title
    std::string version;
};
std::string encode_info_request(dialect d, const info_request& request);
// Fails (errc::protocol_violation, saying why) on a payload that is not the dialect's JSON or,
// for `ota`, has no string title.
result<info_request> parse_info_request(dialect d, std::string_view payload);

struct firmware_info {
    std::string title;
    std::string version;
    std::uint64_t size = 0;
    std::uint32_t crc32 = 0;  // of the whole image
    std::size_t chunk_size = default_chunk_size;
    framing chunks = framing::crc32;
};
// The answer: the release, or "no such title" (the device reports 5) with `why` for people.
std::string encode_info_response(dialect d, const std::optional<firmware_info>& release, std::string_view why = {});
// nullopt inside: the server has no release of that title. Fails on malformed payloads.
result<std::optional<firmware_info>> parse_info_response(dialect d, std::string_view payload);

// "ab12cd34": 8 lowercase hex digits.
std::string crc32_text(std::uint32_t crc);

bytes frame_chunk(framing f, byte_view data);
// The data of a received chunk, or nullopt when the trailer is missing or its CRC does not match.
std::optional<byte_view> unframe_chunk(framing f, byte_view payload);

// The chunk index from the topic: decimal digits only, at most 10 of them.
std::optional<std::uint64_t> parse_chunk_index(std::string_view text) noexcept;
// The wanted size: decimal text from 1 to max_chunk_size (surrounding spaces allowed); nullopt
// otherwise. ThingsBoard's empty payload ("the whole file") is decided by the caller.
std::optional<std::size_t> parse_chunk_size(std::string_view text) noexcept;

// State report codes (seed): 1..7 failures, 100 success.
inline constexpr int code_success = 100;
inline constexpr int code_version_match = 6;  // the device runs the offered version: no update
// "firmware checksum error" for 7; empty for a code the seed does not define.
std::string_view code_meaning(int code) noexcept;
inline bool is_result_code(int code) noexcept { return (code >= 1 && code <= 7) || code == code_success; }

struct state_report {
    std::optional<int> code;  // ThingsBoard: 100 for UPDATED; none for its other states
    std::string state;        // ThingsBoard's fw_state (DOWNLOADING ... UPDATED, FAILED); empty for ota
    std::string message;
    std::string title;
    std::string version;
    // The device's last word on an update: a result code, or UPDATED/FAILED.
    bool final() const noexcept;
    bool success() const noexcept { return code == code_success; }
};
std::string encode_state(dialect d, const state_report& report);
result<state_report> parse_state(dialect d, std::string_view payload);

}  // namespace otaflash::proto::mqtt_ota
