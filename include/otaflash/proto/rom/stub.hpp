#pragma once
// A flasher stub: a small program uploaded into the chip's RAM through the ROM (MEM_BEGIN /
// MEM_DATA / MEM_END) that then speaks the same protocol faster: it acknowledges a 16 KiB block as
// soon as it has it and programs it while the next one arrives, inflates and computes MD5s on
// every chip, and changes the baud rate on the ESP8266 too (../shared/protocols/rom-bootloader.md
// §2.1 MEM_*, §9.3). otaflash ships no stub of its own: it runs esptool's, in the JSON layout
// esptool keeps them in (the CLI finds and reads the file).

#include <otaflash/chip/chip.hpp>
#include <otaflash/proto/rom/loader.hpp>

#include <optional>
#include <string>
#include <vector>

namespace otaflash::rom {

struct stub_segment {
    std::uint32_t address = 0;
    bytes data;
};

struct flasher_stub {
    std::string source;  // where it came from, for messages and reports
    std::uint32_t entry = 0;
    std::vector<stub_segment> segments;  // text, then data; none empty
};

// The stub's greeting, the payload of one SLIP frame with no header.
inline constexpr std::string_view stub_greeting = "OHAI";
// How long a started stub may take to greet (esptool waits its default command timeout).
inline constexpr auto stub_greeting_wait = std::chrono::seconds(3);

// What is wrong with `stub` as a program, or nullopt: no segments, an entry point
// outside its code, a segment beyond 32-bit addresses.
std::optional<std::string> stub_problem(const flasher_stub& stub);

// Why `stub` cannot run on `chip`, or nullopt: a segment outside the chip's internal RAM or an
// entry point outside its executable RAM, as a stub made for another chip has (the memory maps
// of chip/chip.hpp). A chip whose map is unknown is not judged.
std::optional<std::string> stub_misfit(const flasher_stub& stub, const chip_info& chip);

// Uploads `stub`, starts it and waits for its greeting; the loader talks to the stub afterwards.
// Fails with errc::stub_start_failed when it never greets: the chip then runs something unknown
// and needs a reset before anything else.
result<void> run_stub(loader& rom, const flasher_stub& stub);

}  // namespace otaflash::rom
