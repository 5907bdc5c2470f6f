#include <otaflash/proto/rom/flash_id.hpp>

#include <otaflash/util/hex.hpp>

namespace otaflash::rom {

std::optional<std::uint32_t> flash_size_from_jedec(std::uint32_t id) noexcept {
    const std::uint32_t manufacturer = id & 0xFF;
    const std::uint32_t capacity = (id >> 16) & 0xFF;
    if (manufacturer == 0x1F) {  // Adesto encodes the size in the device id: 4 = 512 KiB … 9 = 16 MiB
        const std::uint32_t code = (id >> 8) & 0x1F;
        if (code >= 4 && code <= 9) return (512u * 1024) << (code - 4);
        return std::nullopt;
    }
    if (capacity >= 0x12 && capacity <= 0x1C) return 1u << capacity;            // 256 KiB … 256 MiB
    if (capacity >= 0x20 && capacity <= 0x22) return (64u << 20) << (capacity - 0x20);  // 64 … 256 MiB
    if (capacity >= 0x32 && capacity <= 0x3A) return (256u * 1024) << (capacity - 0x32);  // 256 KiB … 64 MiB
    return std::nullopt;
}

namespace {
constexpr std::uint32_t spi_usr_command = 1u << 31;
constexpr std::uint32_t spi_usr_miso = 1u << 28;
constexpr int busy_polls = 10;

// false when the ROM refused the write (the ID is then not to be had).
result<bool> write_register(loader& rom, std::uint32_t address, std::uint32_t value) {
    auto r = rom.transact(write_reg(address, value), rom.limits().command, "write register " + hex32(address));
    if (!r) return std::move(r).error();
    return !r->st.failed;
}
}  // namespace

result<std::optional<std::uint32_t>> read_flash_id(loader& rom, const chip_info& chip) {
    const auto& spi = chip.spi_registers;
    if (spi.base == 0 || spi.usr == 0 || spi.usr2 == 0 || spi.w0 == 0) return std::optional<std::uint32_t>{};
    constexpr std::uint32_t read_bits = 24;
    auto old_usr = try_read_register(rom, spi.base + spi.usr);
    if (!old_usr) return std::move(old_usr).error();
    if (!*old_usr) return std::optional<std::uint32_t>{};  // register access refused
    auto old_usr2 = try_read_register(rom, spi.base + spi.usr2);
    if (!old_usr2) return std::move(old_usr2).error();
    if (!*old_usr2) return std::optional<std::uint32_t>{};

    // Whatever happens below, the controller's USR registers get their values back.
    auto restore = [&]() -> result<void> {
        for (auto [address, value] : {std::pair{spi.base + spi.usr, **old_usr}, {spi.base + spi.usr2, **old_usr2}}) {
            auto w = write_register(rom, address, value);
            if (!w) return std::move(w).error();
        }
        return {};
    };
    const std::uint32_t lengths_reg = spi.miso_dlen != 0 ? spi.base + spi.miso_dlen : spi.base + spi.usr1;
    // Data lengths: a MISO length register on the ESP32 family, USR1 bit fields on the ESP8266.
    const std::uint32_t lengths = spi.miso_dlen != 0 ? read_bits - 1 : (read_bits - 1) << 8;
    bool accepted = true;
    for (auto [address, value] : {std::pair{lengths_reg, lengths},
                                  {spi.base + spi.usr, spi_usr_command | spi_usr_miso},
                                  {spi.base + spi.usr2, (7u << 28) | spiflash_rdid},
                                  {spi.base + spi.w0, 0u},
                                  {spi.base, spi_cmd_usr}}) {
        auto w = write_register(rom, address, value);
        if (!w) return std::move(w).error();
        if (!*w) {
            accepted = false;
            break;
        }
    }
    bool done = false;
    std::optional<std::uint32_t> id;
    if (accepted) {
        for (int i = 0; i < busy_polls && !done; ++i) {
            auto cmd = try_read_register(rom, spi.base);
            if (!cmd) return std::move(cmd).error();
            done = *cmd && (**cmd & spi_cmd_usr) == 0;
        }
        auto w0 = try_read_register(rom, spi.base + spi.w0);
        if (!w0) return std::move(w0).error();
        id = *w0;
    }
    auto restored = restore();
    if (!restored) return std::move(restored).error();
    if (!done || !id) return std::optional<std::uint32_t>{};
    return std::optional<std::uint32_t>(*id & 0xFFFFFF);
}

}  // namespace otaflash::rom
