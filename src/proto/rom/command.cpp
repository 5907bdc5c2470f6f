#include <otaflash/proto/rom/command.hpp>

#include <otaflash/proto/rom/packet.hpp>
#include <otaflash/proto/rom/slip.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::rom {

std::string opcode_name(std::uint8_t op) {
    switch (static_cast<opcode>(op)) {
    case opcode::flash_begin: return "FLASH_BEGIN";
    case opcode::flash_data: return "FLASH_DATA";
    case opcode::flash_end: return "FLASH_END";
    case opcode::mem_begin: return "MEM_BEGIN";
    case opcode::mem_end: return "MEM_END";
    case opcode::mem_data: return "MEM_DATA";
    case opcode::sync: return "SYNC";
    case opcode::write_reg: return "WRITE_REG";
    case opcode::read_reg: return "READ_REG";
    case opcode::spi_set_params: return "SPI_SET_PARAMS";
    case opcode::spi_attach: return "SPI_ATTACH";
    case opcode::read_flash_slow: return "READ_FLASH_SLOW";
    case opcode::change_baudrate: return "CHANGE_BAUDRATE";
    case opcode::flash_defl_begin: return "FLASH_DEFL_BEGIN";
    case opcode::flash_defl_data: return "FLASH_DEFL_DATA";
    case opcode::flash_defl_end: return "FLASH_DEFL_END";
    case opcode::spi_flash_md5: return "SPI_FLASH_MD5";
    case opcode::get_security_info: return "GET_SECURITY_INFO";
    }
    return hex_digits(op, 2);
}

bytes frame(const command& cmd) {
    return slip::encode(encode_request(static_cast<std::uint8_t>(cmd.op), cmd.payload, cmd.checksum));
}

namespace {
command words(opcode op, std::initializer_list<std::uint32_t> values) {
    command cmd{op, {}, 0, 0};
    cmd.payload.reserve(values.size() * 4);
    for (auto v : values) append_le32(cmd.payload, v);
    return cmd;
}

command begin(opcode op, std::uint32_t size, std::uint32_t blocks, std::uint32_t block_size, std::uint32_t offset,
              std::optional<bool> encrypted) {
    command cmd = words(op, {size, blocks, block_size, offset});
    if (encrypted) append_le32(cmd.payload, *encrypted ? 1 : 0);
    return cmd;
}

command data(opcode op, std::uint32_t sequence, byte_view block) {
    return command{op, data_payload(sequence, block), data_checksum(block), 0};
}
}  // namespace

command sync_command() {
    command cmd{opcode::sync, {0x07, 0x07, 0x12, 0x20}, 0, 0};
    cmd.payload.insert(cmd.payload.end(), 32, 0x55);
    return cmd;
}

command read_reg(std::uint32_t address) { return words(opcode::read_reg, {address}); }

command write_reg(std::uint32_t address, std::uint32_t value, std::uint32_t mask, std::uint32_t delay_us) {
    return words(opcode::write_reg, {address, value, mask, delay_us});
}

command spi_attach(std::uint32_t pin_config) { return words(opcode::spi_attach, {pin_config, 0}); }

command stub_spi_attach(std::uint32_t pin_config) { return words(opcode::spi_attach, {pin_config}); }

command spi_set_params(std::uint32_t total_size) {
    return words(opcode::spi_set_params, {0, total_size, flash_block_size, flash_sector_size, 0x100, 0xFFFF});
}

command change_baudrate(std::uint32_t rom_baud, std::uint32_t old_baud) {
    return words(opcode::change_baudrate, {rom_baud, old_baud});
}

command flash_begin(std::uint32_t erase_size, std::uint32_t blocks, std::uint32_t block_size, std::uint32_t offset,
                    std::optional<bool> encrypted) {
    return begin(opcode::flash_begin, erase_size, blocks, block_size, offset, encrypted);
}

command flash_data(std::uint32_t sequence, byte_view block) { return data(opcode::flash_data, sequence, block); }

command flash_defl_begin(std::uint32_t uncompressed_size, std::uint32_t blocks, std::uint32_t block_size,
                         std::uint32_t offset, std::optional<bool> encrypted) {
    return begin(opcode::flash_defl_begin, uncompressed_size, blocks, block_size, offset, encrypted);
}

command flash_defl_data(std::uint32_t sequence, byte_view block) {
    return data(opcode::flash_defl_data, sequence, block);
}

command flash_end(end_action action) { return words(opcode::flash_end, {static_cast<std::uint32_t>(action)}); }

command flash_defl_end(end_action action) {
    return words(opcode::flash_defl_end, {static_cast<std::uint32_t>(action)});
}

command spi_flash_md5(std::uint32_t address, std::uint32_t size, std::size_t digest_length) {
    command cmd = words(opcode::spi_flash_md5, {address, size, 0, 0});
    cmd.reply_payload = digest_length;
    return cmd;
}

command mem_begin(std::uint32_t size, std::uint32_t blocks, std::uint32_t block_size, std::uint32_t address) {
    return words(opcode::mem_begin, {size, blocks, block_size, address});
}

command mem_data(std::uint32_t sequence, byte_view block) { return data(opcode::mem_data, sequence, block); }

command mem_end(std::optional<std::uint32_t> entry) {
    return words(opcode::mem_end, {entry ? 0u : 1u, entry.value_or(0)});
}

command read_flash_slow(std::uint32_t address, std::uint32_t length) {
    command cmd = words(opcode::read_flash_slow, {address, length});
    cmd.reply_payload = read_flash_slow_reply;
    return cmd;
}

command get_security_info() { return command{opcode::get_security_info, {}, 0, reply_payload_rest}; }

std::uint32_t block_count(std::uint64_t size, std::uint32_t block_size) noexcept {
    return static_cast<std::uint32_t>((size + block_size - 1) / block_size);
}

std::uint32_t esp8266_erase_size(std::uint32_t offset, std::uint32_t size) noexcept {
    const std::uint32_t sectors = block_count(size, flash_sector_size);
    const std::uint32_t start = offset / flash_sector_size;
    const std::uint32_t head = std::min(sectors_per_block - start % sectors_per_block, sectors);
    if (sectors < 2 * head) return (sectors + 1) / 2 * flash_sector_size;
    return (sectors - head) * flash_sector_size;
}

std::uint32_t defl_begin_size(std::uint32_t uncompressed_size) noexcept {
    return block_count(uncompressed_size, rom_block_size) * rom_block_size;
}

std::string flash_range(std::uint32_t offset, std::uint64_t size) {
    return hex32(offset) + "–" + hex32(static_cast<std::uint32_t>(offset + size - 1));
}

}  // namespace otaflash::rom
