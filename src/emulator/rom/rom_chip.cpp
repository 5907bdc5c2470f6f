#include "rom_chip.hpp"

#include <array>

namespace otaflash::emulator::rom {
namespace {

// Banners: the shape of each ROM's own boot message (reset cause, `boot:0x..` strap value, and
// "waiting for download"), which is what a host greps for after a reset (§5).
constexpr std::array<rom_chip, 5> chips{{
    {chip_kind::esp8266, "esp8266", true, 0xFFF0C101, std::nullopt, 0, false, 0x60000014, 2, 26'000'000, 74880,
     {0x60000200, 0x1C, 0x24, 0x40},
     "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,7)\r\n\r\n",
     "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,7)\r\n\r\nload 0x40100000, len 1396, room 16 \r\n"},
    {chip_kind::esp32, "esp32", false, 0x00F01D83, 0, 0, false, 0x3FF40014, 1, 40'000'000, 115200,
     {0x3FF42000, 0x1C, 0x24, 0x80},
     "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
     "waiting for download\r\n",
     "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
     "configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:2\r\nentry 0x400805f0\r\n"},
    {chip_kind::esp32s2, "esp32s2", false, 0x000007C6, 2, 12, true, 0x3F400014, 1, 40'000'000, 115200,
     {0x3F402000, 0x18, 0x20, 0x58},
     "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\nrst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0/1))\r\n"
     "waiting for download\r\n",
     "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\nrst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n"
     "SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x4004c1ac\r\n"},
    {chip_kind::esp32s3, "esp32s3", false, 0x00000009, 9, 20, true, 0x60000014, 1, 40'000'000, 115200,
     {0x60002000, 0x18, 0x20, 0x58},
     "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0))\r\n"
     "waiting for download\r\n",
     "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n"
     "SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x403c98d0\r\n"},
    {chip_kind::esp32c3, "esp32c3", false, 0x1B31506F, 5, 20, true, 0x60000014, 1, 40'000'000, 115200,
     {0x60002000, 0x18, 0x20, 0x58},
     "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0x5 (DOWNLOAD(USB/UART1))\r\n"
     "waiting for download\r\n",
     "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n"
     "SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x403ce000\r\n"},
}};

}  // namespace

const rom_chip& chip_info(chip_kind kind) noexcept { return chips[static_cast<std::size_t>(kind)]; }

std::optional<chip_kind> chip_from_name(std::string_view name) noexcept {
    for (const auto& c : chips)
        if (c.name == name) return c.kind;
    return std::nullopt;
}

std::span<const rom_chip> all_chips() noexcept { return chips; }

}  // namespace otaflash::emulator::rom
