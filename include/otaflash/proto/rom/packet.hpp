#pragma once
// ROM bootloader packets inside SLIP frames (../shared/protocols/rom-bootloader.md §1.2–§1.4).
// The host encodes requests and parses responses; the emulated ROM does the reverse.

#include <otaflash/util/bytes.hpp>
#include <otaflash/util/esp_checksum.hpp>

#include <cstdint>
#include <optional>

namespace otaflash::rom {


// XOR of every byte, seeded with 0xEF: the checksum of MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA.
std::uint8_t data_checksum(byte_view data) noexcept;

struct request {
    std::uint8_t opcode = 0;
    std::uint32_t checksum = 0;
    bytes data;
};

struct response {
    std::uint8_t opcode = 0;
    std::uint32_t value = 0;  // READ_REG result; SYNC: non-zero from the ROM
    bytes data;               // command payload followed by the status bytes
};

// Unframed packets: wrap them with slip::encode.
bytes encode_request(std::uint8_t opcode, byte_view data, std::uint32_t checksum = 0);
bytes encode_response(std::uint8_t opcode, std::uint32_t value, byte_view data);

// nullopt when the frame is not a well-formed packet of that direction (too short, wrong
// direction byte, size field disagreeing with the frame length).
std::optional<request> parse_request(byte_view frame);
std::optional<response> parse_response(byte_view frame);

// The header of a MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA payload (block length, sequence number,
// two zero words) followed by the block.
inline constexpr std::size_t data_header_length = 16;
bytes data_payload(std::uint32_t sequence, byte_view block);

}  // namespace otaflash::rom
