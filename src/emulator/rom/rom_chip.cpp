#include "rom_chip.hpp"

#include <algorithm>
#include <array>

namespace otaflash::emulator::rom {
namespace {

constexpr std::array<chip_kind, 5> supported{chip_kind::esp8266, chip_kind::esp32, chip_kind::esp32s2,
                                             chip_kind::esp32s3, chip_kind::esp32c3};

// Banners: the shape of each ROM's own boot message (reset cause, `boot:0x..` strap value and
// "waiting for download"), which is what a host looks for after a reset (§5).
const std::array<rom_chip, 5>& table() {
    static const std::array<rom_chip, 5> chips{{
        {&info(chip_kind::esp8266), 26'000'000,
         "\r\n ets Jan  8 2013,rst cause:2, boot mode:(1,7)\r\n\r\n",
         "\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,7)\r\n\r\nload 0x40100000, len 1396, room 16 \r\n",
         {0, 0}, 0x5CCF7F},
        {&info(chip_kind::esp32), 40'000'000,
         "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
         "waiting for download\r\n",
         "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
         "configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:2\r\nentry 0x400805f0\r\n",
         {3, 0}, 0x240AC4},
        {&info(chip_kind::esp32s2), 40'000'000,
         "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\nrst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0/1))\r\n"
         "waiting for download\r\n",
         "ESP-ROM:esp32s2-rc4-20191025\r\nBuild:Oct 25 2019\r\nrst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n"
         "SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x4004c1ac\r\n",
         {1, 0}, 0x7CDFA1},
        {&info(chip_kind::esp32s3), 40'000'000,
         "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),boot:0x0 (DOWNLOAD(USB/UART0))\r\n"
         "waiting for download\r\n",
         "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\nrst:0x1 (POWERON),boot:0x8 (SPI_FAST_FLASH_BOOT)\r\n"
         "SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x403c98d0\r\n",
         {0, 2}, 0xF412FA},
        {&info(chip_kind::esp32c3), 40'000'000,
         "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0x5 (DOWNLOAD(USB/UART1))\r\n"
         "waiting for download\r\n",
         "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\nrst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n"
         "SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x403ce000\r\n",
         {0, 4}, 0x58CF79},
    }};
    return chips;
}

}  // namespace

const rom_chip& emulated_chip(chip_kind kind) noexcept {
    const auto& chips = table();
    return *std::find_if(chips.begin(), chips.end(), [kind](const rom_chip& c) { return c.info->id == kind; });
}

std::span<const chip_kind> emulated_chips() noexcept { return supported; }

std::optional<chip_kind> emulated_chip_named(std::string_view name) noexcept {
    const auto* found = find_chip(name);
    if (!found || std::find(supported.begin(), supported.end(), found->id) == supported.end()) return std::nullopt;
    return found->id;
}

}  // namespace otaflash::emulator::rom
