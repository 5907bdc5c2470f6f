#include <otaflash/proto/rom/packet.hpp>

namespace otaflash::rom {

std::uint8_t data_checksum(byte_view data) noexcept { return esp_checksum(data); }

namespace {
bytes encode_packet(std::uint8_t direction, std::uint8_t opcode, std::uint32_t word, byte_view data) {
    bytes out;
    out.reserve(8 + data.size());
    out.push_back(direction);
    out.push_back(opcode);
    append_le16(out, static_cast<std::uint16_t>(data.size()));
    append_le32(out, word);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

struct header {
    std::uint8_t opcode;
    std::uint32_t word;
    bytes data;
};

std::optional<header> parse_packet(byte_view frame, std::uint8_t direction) {
    if (frame.size() < 8 || frame[0] != direction) return std::nullopt;
    const std::size_t size = load_le16(frame.data() + 2);
    if (frame.size() != 8 + size) return std::nullopt;
    return header{frame[1], load_le32(frame.data() + 4), bytes(frame.begin() + 8, frame.end())};
}
}  // namespace

bytes encode_request(std::uint8_t opcode, byte_view data, std::uint32_t checksum) {
    return encode_packet(0x00, opcode, checksum, data);
}

bytes encode_response(std::uint8_t opcode, std::uint32_t value, byte_view data) {
    return encode_packet(0x01, opcode, value, data);
}

std::optional<request> parse_request(byte_view frame) {
    auto h = parse_packet(frame, 0x00);
    if (!h) return std::nullopt;
    return request{h->opcode, h->word, std::move(h->data)};
}

std::optional<response> parse_response(byte_view frame) {
    auto h = parse_packet(frame, 0x01);
    if (!h) return std::nullopt;
    return response{h->opcode, h->word, std::move(h->data)};
}

bytes data_payload(std::uint32_t sequence, byte_view block) {
    bytes out;
    out.reserve(data_header_length + block.size());
    append_le32(out, static_cast<std::uint32_t>(block.size()));
    append_le32(out, sequence);
    append_le32(out, 0);
    append_le32(out, 0);
    out.insert(out.end(), block.begin(), block.end());
    return out;
}

}  // namespace otaflash::rom
