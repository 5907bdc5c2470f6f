#include <otaflash/proto/rom/flash_write.hpp>

#include <otaflash/util/gzip.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>

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
result<void> send_block(loader& rom, const command& cmd, duration timeout, const std::string& what, write_stats& stats) {
    for (int attempt = 1;; ++attempt) {
        auto r = rom.transact(cmd, timeout, what);
        if (!r) return std::move(r).error();
        if (!r->st.failed) return {};
        if (attempt == block_attempts || r->st.error == rom_error_invalid_message)
            return make_failure(errc::rom_error,
                                "the ROM failed to " + what + ": " + describe_rom_error(r->st.error) +
                                    (attempt > 1 ? " (" + std::to_string(attempt) + " attempts)" : std::string{}),
                                std::string(rom_error_hint(r->st.error)));
        ++stats.retries;
        rom.log().write(log_level::warn, "the ROM refused to " + what + " (" + describe_rom_error(r->st.error) +
                                             "): sending it again");
    }
}

std::optional<bool> encrypted_word(const chip_info& chip) {
    return chip.rom_begin_encrypt_word ? std::optional<bool>(false) : std::nullopt;
}

// FLASH_BEGIN / FLASH_DEFL_BEGIN: the ROM erases the whole range before it answers.
result<void> begin_region(loader& rom, const command& begin, const region_plan& plan, progress_sink& progress,
                          write_stats& stats) {
    port& p = rom.line();
    progress.phase_begin(phase::erase, flash_range(plan.offset, plan.data.size()));
    const time_point started = p.now();
    auto begun = rom.execute(begin, rom.limits().erase(plan.data.size()),
                             "erase " + flash_range(plan.offset, plan.data.size()));
    stats.erase_time = p.now() - started;
    progress.phase_end(phase::erase, begun ? phase_outcome::ok : phase_outcome::failed);
    if (!begun) return std::move(begun).error();
    return {};
}

result<write_stats> write_plain(loader& rom, const chip_info& chip, const region_plan& plan, progress_sink& progress) {
    write_stats stats;
    port& p = rom.line();
    const auto size = static_cast<std::uint32_t>(plan.data.size());
    stats.blocks = block_count(size, rom_block_size);
    const std::uint32_t erase_size = chip.id == chip::esp8266 ? esp8266_erase_size(plan.offset, size) : size;
    auto begun = begin_region(rom, flash_begin(erase_size, stats.blocks, rom_block_size, plan.offset, encrypted_word(chip)),
                              plan, progress, stats);
    if (!begun) return std::move(begun).error();

    progress.phase_begin(phase::upload, flash_range(plan.offset, size));
    const time_point started = p.now();
    bytes block(rom_block_size);
    for (std::uint32_t seq = 0; seq < stats.blocks; ++seq) {
        const std::size_t at = std::size_t{seq} * rom_block_size;
        const std::size_t n = std::min<std::size_t>(rom_block_size, size - at);
        std::copy_n(plan.data.begin() + static_cast<std::ptrdiff_t>(at), n, block.begin());
        std::fill(block.begin() + static_cast<std::ptrdiff_t>(n), block.end(), 0xFF);  // the ROM wants whole blocks
        auto sent = send_block(rom, flash_data(seq, block), rom.limits().command,
                               block_text("block ", seq, stats.blocks, plan.offset + at), stats);
        if (!sent) {
            progress.phase_end(phase::upload, phase_outcome::failed);
            return std::move(sent).error();
        }
        stats.sent += rom_block_size;
        progress.bytes_done(at + n, size);
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
    const auto size = static_cast<std::uint32_t>(plan.data.size());
    auto produced = inflated_sizes(stream, rom_block_size);
    if (!produced) return make_failure(errc::internal_error, "our own zlib stream does not inflate: " + produced.error().message);
    stats.blocks = block_count(stream.size(), rom_block_size);
    auto begun = begin_region(
        rom, flash_defl_begin(defl_begin_size(size), stats.blocks, rom_block_size, plan.offset, encrypted_word(chip)),
        plan, progress, stats);
    if (!begun) return std::move(begun).error();

    progress.phase_begin(phase::upload, flash_range(plan.offset, size) + ", compressed to " +
                                            std::to_string(stream.size()) + " bytes");
    const time_point started = p.now();
    std::uint64_t written = 0;
    for (std::uint32_t seq = 0; seq < stats.blocks; ++seq) {
        const std::size_t at = std::size_t{seq} * rom_block_size;
        const std::size_t n = std::min<std::size_t>(rom_block_size, stream.size() - at);
        // The ROM inflates and programs this block's output before it answers (last block unpadded).
        const std::size_t yields = (*produced)[seq];
        auto sent = send_block(rom, flash_defl_data(seq, byte_view(stream).subspan(at, n)), rom.limits().write(yields),
                               block_text("compressed block ", seq, stats.blocks, plan.offset + written), stats);
        if (!sent) {
            progress.phase_end(phase::upload, phase_outcome::failed);
            return std::move(sent).error();
        }
        stats.sent += n;
        written += yields;
        progress.bytes_done(std::min<std::uint64_t>(written, size), size);
    }
    stats.write_time = p.now() - started;
    progress.phase_end(phase::upload, phase_outcome::ok);
    return stats;
}

}  // namespace

result<write_stats> write_region(loader& rom, const chip_info& chip, const region_plan& plan, bool compress,
                                 progress_sink& progress) {
    if (compress && chip.rom_deflate) {
        bytes stream = zlib_compress(plan.data, 9);
        if (stream.size() < plan.data.size()) return write_deflated(rom, chip, plan, stream, progress);
        rom.log().write(log_level::debug, "compression does not shrink this region: writing it as is");
    }
    return write_plain(rom, chip, plan, progress);
}

}  // namespace otaflash::rom
