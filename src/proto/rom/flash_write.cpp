#include <otaflash/proto/rom/flash_write.hpp>

#include <otaflash/util/gzip.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <functional>
#include <vector>

namespace otaflash::rom {

region_plan plan_region(std::uint32_t offset, byte_view file) {
    region_plan plan;
    plan.lead = offset % flash_sector_size;
    plan.offset = offset - plan.lead;
    plan.data.reserve(plan.lead + file.size() + 3);
    plan.data.assign(plan.lead, 0xFF);
    plan.data.insert(plan.data.end(), file.begin(), file.end());
    while (plan.data.size() % 4 != 0) plan.data.push_back(0xFF);
    plan.md5 = md5(plan.data);
    return plan;
}

namespace {

std::string block_text(const char* kind, std::uint32_t seq, std::uint32_t blocks, std::uint64_t address) {
    return std::string("write ") + kind + std::to_string(seq + 1) + " of " + std::to_string(blocks) + " (" +
           hex32(static_cast<std::uint32_t>(address)) + ")";
}


// One data block, sent again when the ROM refuses it (esptool does the same): a checksum error is
// corruption on the line, and a flash write error may be a bit that did not program yet, which
// programming the same bytes again completes. The MD5 at the end judges the result either way.
// A stub programs a block after acknowledging it, so its write errors arrive with the reply to the
// next block: sending that next block again would hide them; only a checksum error is retried.
result<void> send_block(loader& rom, const command& cmd, duration timeout, const std::string& what, write_stats& stats) {
    const bool stub = rom.stub_running();
    for (int attempt = 1;; ++attempt) {
        auto r = rom.transact(cmd, timeout, what);
        if (!r) return std::move(r).error();
        if (!r->st.failed) return {};
        const bool line_error = r->st.error == rom_error_checksum || r->st.error == stub_error_checksum;
        if (attempt == block_attempts || r->st.error == rom_error_invalid_message || (stub && !line_error)) {
            failure f = rom.refusal(stub && !line_error ? what + " or to program the block before it" : what, r->st);
            if (attempt > 1) f.message += " (" + std::to_string(attempt) + " attempts)";
            return f;
        }
        ++stats.retries;
        rom.log().write(log_level::warn, "the " + std::string(stub ? "flasher stub" : "ROM") + " refused to " + what +
                                             " (" + describe_rom_error(r->st.error) + "): sending it again");
    }
}

// How this loader takes data: the ROM 1 KiB at a time, erasing the whole range up front and
// programming each block before it answers; a stub up to 16 KiB at a time, erasing ahead and
// answering before it programs.
struct write_mode {
    bool stub = false;
    std::uint32_t block = rom_block_size;
};

write_mode mode_of(const loader& rom) {
    return rom.stub_running() ? write_mode{true, stub_block_size} : write_mode{};
}

// S2-and-later ROMs take a fifth `encrypted` word; the legacy stub insists on four (§2.1).
std::optional<bool> encrypted_word(const chip_info& chip, const write_mode& mode) {
    return chip.rom_begin_encrypt_word && !mode.stub ? std::optional<bool>(false) : std::nullopt;
}

// FLASH_BEGIN / FLASH_DEFL_BEGIN: the ROM erases the whole range before it answers (a stub only
// takes note and erases while it writes). `block_sizes` in order of preference: a stub that
// refuses one with "bad block size" gets the next. Returns the block size taken.
result<std::uint32_t> begin_region(loader& rom, const std::function<command(std::uint32_t)>& begin,
                                   const std::vector<std::uint32_t>& block_sizes, const region_plan& plan,
                                   progress_sink& progress, write_stats& stats) {
    port& p = rom.line();
    const bool stub = rom.stub_running();
    const std::string what = (stub ? "start writing " : "erase ") + flash_range(plan.offset, plan.data.size());
    const duration timeout = stub ? rom.limits().command : rom.limits().erase(plan.data.size());
    progress.phase_begin(phase::erase, flash_range(plan.offset, plan.data.size()));
    const time_point started = p.now();
    for (std::size_t i = 0;; ++i) {
        const bool last = i + 1 == block_sizes.size();
        auto begun = rom.transact(begin(block_sizes[i]), timeout, what);
        if (begun && begun->st.failed && begun->st.error == stub_error_bad_block_size && !last) {
            rom.log().write(log_level::debug, "the stub refused " + std::to_string(block_sizes[i]) + "-byte blocks");
            continue;
        }
        stats.erase_time = p.now() - started;
        const bool ok = begun && !begun->st.failed;
        progress.phase_end(phase::erase, ok ? phase_outcome::ok : phase_outcome::failed);
        if (!begun) return std::move(begun).error();
        if (!ok) return rom.refusal(what, begun->st);
        return block_sizes[i];
    }
}

// esptool sends a stub 16 KiB blocks and pads the last one: up to 16 KiB of 0xFF on the wire. A
// block size that cuts the region into equal blocks (whole words) pads at most a few bytes; newer
// stubs take any size up to 16 KiB, older legacy stubs refuse it (then 16 KiB as esptool).
std::vector<std::uint32_t> plain_block_sizes(std::uint32_t size) {
    const std::uint32_t blocks = block_count(size, stub_block_size);
    const std::uint32_t even = (block_count(size, blocks) + 3) / 4 * 4;
    if (even >= stub_block_size) return {stub_block_size};
    return {even, stub_block_size};
}

// A stub answers a block before programming it, so the reply to block N waits for block N-1's
// erase and programming: its time budget is the previous block's (esptool shifts it the same way).
duration block_timeout(const loader& rom, const write_mode& mode, std::uint64_t this_block, std::uint64_t previous_block) {
    if (mode.stub) return rom.limits().write(previous_block);
    return this_block ? rom.limits().write(this_block) : rom.limits().command;
}

// A stub's answer to FLASH_END / FLASH_DEFL_END(stay) comes once the last block is programmed: the
// barrier before anything reads the flash. A ROM has nothing to wait for (and FLASH_END would make
// it leave the bootloader).
result<void> await_programming(loader& rom, const write_mode& mode, bool compressed, std::uint64_t last_block,
                               write_stats& stats) {
    if (!mode.stub) return {};
    const command end = compressed ? flash_defl_end(end_action::run_application) : flash_end(end_action::run_application);
    return send_block(rom, end, rom.limits().write(last_block), "program the last block", stats);
}

result<write_stats> write_plain(loader& rom, const chip_info& chip, const region_plan& plan, progress_sink& progress) {
    write_stats stats;
    port& p = rom.line();
    write_mode mode = mode_of(rom);
    const auto size = static_cast<std::uint32_t>(plan.data.size());
    const std::uint32_t erase_size =
        chip.id == chip::esp8266 && !mode.stub ? esp8266_erase_size(plan.offset, size) : size;
    const auto taken = begin_region(
        rom,
        [&](std::uint32_t b) { return flash_begin(erase_size, block_count(size, b), b, plan.offset, encrypted_word(chip, mode)); },
        mode.stub ? plain_block_sizes(size) : std::vector<std::uint32_t>{mode.block}, plan, progress, stats);
    if (!taken) return std::move(taken).error();
    mode.block = *taken;
    stats.blocks = block_count(size, mode.block);

    progress.phase_begin(phase::upload, flash_range(plan.offset, size));
    const time_point started = p.now();
    bytes block(mode.block);
    std::size_t previous = 0;
    for (std::uint32_t seq = 0; seq < stats.blocks; ++seq) {
        const std::size_t at = std::size_t{seq} * mode.block;
        const std::size_t n = std::min<std::size_t>(mode.block, size - at);
        std::copy_n(plan.data.begin() + static_cast<std::ptrdiff_t>(at), n, block.begin());
        std::fill(block.begin() + static_cast<std::ptrdiff_t>(n), block.end(), 0xFF);  // whole blocks only
        auto sent = send_block(rom, flash_data(seq, block), block_timeout(rom, mode, 0, previous),
                               block_text("block ", seq, stats.blocks, plan.offset + at), stats);
        if (!sent) {
            progress.phase_end(phase::upload, phase_outcome::failed);
            return std::move(sent).error();
        }
        stats.sent += mode.block;
        previous = mode.block;
        progress.bytes_done(at + n, size);
    }
    if (auto done = await_programming(rom, mode, false, previous, stats); !done) {
        progress.phase_end(phase::upload, phase_outcome::failed);
        return std::move(done).error();
    }
    stats.write_time = p.now() - started;
    progress.phase_end(phase::upload, phase_outcome::ok);
    return stats;
}

result<write_stats> write_deflated(loader& rom, const chip_info& chip, const region_plan& plan, const bytes& stream,
                                   progress_sink& progress) {
    write_stats stats;
    stats.compressed = true;
    port& p = rom.line();
    const write_mode mode = mode_of(rom);
    const auto size = static_cast<std::uint32_t>(plan.data.size());
    auto produced = inflated_sizes(stream, mode.block);
    if (!produced) return make_failure(errc::internal_error, "our own zlib stream does not inflate: " + produced.error().message);
    stats.blocks = block_count(stream.size(), mode.block);
    // A ROM wants the size rounded up to whole blocks, a stub the exact byte count (§2.1).
    const std::uint32_t announced = mode.stub ? size : defl_begin_size(size);
    auto begun = begin_region(
        rom, [&](std::uint32_t b) { return flash_defl_begin(announced, stats.blocks, b, plan.offset, encrypted_word(chip, mode)); },
        {mode.block}, plan, progress, stats);
    if (!begun) return std::move(begun).error();

    progress.phase_begin(phase::upload, flash_range(plan.offset, size) + ", compressed to " +
                                            std::to_string(stream.size()) + " bytes");
    const time_point started = p.now();
    std::uint64_t written = 0;
    std::size_t previous = 0;
    for (std::uint32_t seq = 0; seq < stats.blocks; ++seq) {
        const std::size_t at = std::size_t{seq} * mode.block;
        const std::size_t n = std::min<std::size_t>(mode.block, stream.size() - at);
        // What this block inflates to is programmed before the ROM answers, or before a stub
        // answers the next one (last block unpadded either way).
        const std::size_t yields = (*produced)[seq];
        auto sent = send_block(rom, flash_defl_data(seq, byte_view(stream).subspan(at, n)),
                               block_timeout(rom, mode, yields, previous),
                               block_text("compressed block ", seq, stats.blocks, plan.offset + written), stats);
        if (!sent) {
            progress.phase_end(phase::upload, phase_outcome::failed);
            return std::move(sent).error();
        }
        stats.sent += n;
        written += yields;
        previous = yields;
        progress.bytes_done(std::min<std::uint64_t>(written, size), size);
    }
    if (auto done = await_programming(rom, mode, true, previous, stats); !done) {
        progress.phase_end(phase::upload, phase_outcome::failed);
        return std::move(done).error();
    }
    stats.write_time = p.now() - started;
    progress.phase_end(phase::upload, phase_outcome::ok);
    return stats;
}

}  // namespace

result<write_stats> write_region(loader& rom, const chip_info& chip, const region_plan& plan, bool compress,
                                 progress_sink& progress) {
    if (compress && (chip.rom_deflate || rom.stub_running())) {
        bytes stream = zlib_compress(plan.data, 9);
        if (stream.size() < plan.data.size()) return write_deflated(rom, chip, plan, stream, progress);
        rom.log().write(log_level::debug, "compression does not shrink this region: writing it as is");
    }
    return write_plain(rom, chip, plan, progress);
}

}  // namespace otaflash::rom
