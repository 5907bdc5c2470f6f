#include <otaflash/proto/rom/stub.hpp>

#include <otaflash/util/hex.hpp>

#include <algorithm>

namespace otaflash::rom {

std::optional<std::string> stub_problem(const flasher_stub& stub) {
    if (stub.segments.empty()) return std::string("it holds no code");
    bool entry_inside = false;
    for (const auto& s : stub.segments) {
        if (s.data.empty()) return "it has an empty segment at " + hex32(s.address);
        if (std::uint64_t{s.address} + s.data.size() > 0x100000000ull)
            return "its segment at " + hex32(s.address) + " runs past the 32-bit address space";
        if (stub.entry >= s.address && stub.entry - s.address < s.data.size()) entry_inside = true;
    }
    if (!entry_inside) return "its entry point " + hex32(stub.entry) + " lies outside its own code";
    return std::nullopt;
}

std::optional<std::string> stub_misfit(const flasher_stub& stub, const chip_info& chip) {
    if (chip.map_quality == map_accuracy::unknown) return std::nullopt;
    for (const auto& s : stub.segments)
        if (!in_ram(chip, s.address, s.data.size()))
            return "its " + std::to_string(s.data.size()) + " bytes at " + hex32(s.address) + " are not in the " +
                   std::string(chip.display_name) + "'s RAM";
    if (!in_ram(chip, stub.entry, 1, true))
        return "its entry point " + hex32(stub.entry) + " is not in the " + std::string(chip.display_name) +
               "'s instruction RAM";
    return std::nullopt;
}

namespace {

result<void> upload(loader& rom, const stub_segment& segment) {
    const auto size = static_cast<std::uint32_t>(segment.data.size());
    const std::uint32_t blocks = block_count(size, ram_block_size);
    const std::string where = "RAM at " + hex32(segment.address);
    auto begun = rom.execute(mem_begin(size, blocks, ram_block_size, segment.address), rom.limits().command,
                             "prepare " + std::to_string(size) + " bytes of " + where);
    if (!begun) return std::move(begun).error();
    for (std::uint32_t seq = 0; seq < blocks; ++seq) {
        const std::size_t at = std::size_t{seq} * ram_block_size;
        const std::size_t n = std::min<std::size_t>(ram_block_size, size - at);
        auto sent = rom.execute(mem_data(seq, byte_view(segment.data).subspan(at, n)), rom.limits().command,
                                "load block " + std::to_string(seq + 1) + " of " + std::to_string(blocks) + " into " + where);
        if (!sent) return std::move(sent).error();
    }
    return {};
}

bool is_greeting(const bytes& frame) {
    return std::equal(frame.begin(), frame.end(), stub_greeting.begin(), stub_greeting.end(),
                      [](std::uint8_t b, char c) { return b == static_cast<std::uint8_t>(c); });
}

}  // namespace

result<void> run_stub(loader& rom, const flasher_stub& stub) {
    if (auto problem = stub_problem(stub))
        return make_failure(errc::config_invalid, "the flasher stub " + stub.source + " cannot run: " + *problem,
                            "give another stub file with --stub, or --stub none to write through the ROM");
    for (const auto& segment : stub.segments) {
        auto loaded = upload(rom, segment);
        if (!loaded) return loaded;
    }
    // The ROM may jump before its answer to MEM_END leaves the UART, so that answer is optional;
    // the greeting is what counts.
    auto sent = rom.send(mem_end(stub.entry));
    if (!sent) return sent;
    port& p = rom.line();
    const time_point deadline = p.now() + stub_greeting_wait;
    for (;;) {
        auto frame = rom.next_frame(deadline);
        if (!frame) return std::move(frame).error();
        if (!*frame) break;
        if (is_greeting(**frame)) {
            rom.set_stub_running();
            rom.log().write(log_level::debug, "flasher stub " + stub.source + " is running");
            return {};
        }
    }
    return make_failure(errc::stub_start_failed,
                        "the flasher stub " + stub.source + " did not start: no greeting within " +
                            loader::seconds(stub_greeting_wait) + " of jumping to " + hex32(stub.entry),
                        "the file may be for another chip or damaged; reset the board, then run again with the right "
                        "stub or with --stub none to write through the ROM");
}

}  // namespace otaflash::rom
