#include <otaflash/proto/rom/flasher.hpp>

#include <otaflash/util/hex.hpp>

namespace otaflash::rom {
namespace {

// The stub to upload, if any: none when one is already running, and none in Secure Download Mode,
// which forbids loading code into RAM (§2.1).
result<std::optional<flasher_stub>> stub_for_session(const loader& rom, const session_request& request,
                                                     const chip_identity& chip, session_report& report) {
    if (!request.stub_for || rom.stub_running()) return std::optional<flasher_stub>{};
    if (chip.security && chip.security->secure_download_mode()) {
        report.warnings.push_back("Secure Download Mode forbids a flasher stub: the ROM does the work");
        return std::optional<flasher_stub>{};
    }
    auto stub = request.stub_for(*chip.chip, report.warnings);
    if (!stub || !*stub) return stub;
    // Checked before anything is uploaded: a stub for another chip would be written over
    // whatever lies at its addresses here and never greet (issue 12 item 23).
    // (A stub broken in itself is named as such by run_stub.)
    if (auto misfit = stub_problem(**stub) ? std::nullopt : stub_misfit(**stub, *chip.chip))
        return make_failure(errc::chip_mismatch,
                            "the flasher stub " + (*stub)->source + " is not for this " +
                                std::string(chip.chip->display_name) + ": " + *misfit,
                            "give the stub made for the " + std::string(chip.chip->display_name) +
                                " (esptool's stub_flasher/<chip>.json), or --stub none to write through the ROM");
    return stub;
}

result<void> switch_baud(loader& rom, const session_request& request, session_report& report) {
    auto baud = change_baud(rom, *report.chip, request.baud);
    if (!baud) return std::move(baud).error();
    report.baud = *baud;
    if (!baud->note.empty()) report.warnings.push_back(baud->note);
    return {};
}

result<void> start_stub(loader& rom, const flasher_stub& stub, session_report& report, progress_sink& progress) {
    progress.phase_begin(phase::stub, stub.source);
    auto started = run_stub(rom, stub);
    progress.phase_end(phase::stub, started ? phase_outcome::ok : phase_outcome::failed);
    if (!started) return started;
    report.stub = stub.source;
    return {};
}

// Connect, identify, switch baud, attach the flash and learn its size: the same for writing and
// comparing. `check` looks at the files once the chip and the flash size are known and may refuse
// before anything is erased.
template <class Check>
result<void> open_session(loader& rom, const session_request& request, session_report& report, progress_sink& progress,
                          Check&& check) {
    progress.phase_begin(phase::connect, report.port);
    auto link = connect(rom, request.connect);
    progress.phase_end(phase::connect, link ? phase_outcome::ok : phase_outcome::failed);
    if (!link) return std::move(link).error();
    report.link = *link;

    progress.phase_begin(phase::detect, {});
    auto chip = detect_chip(rom, request.expected_chip);
    progress.phase_end(phase::detect, chip ? phase_outcome::ok : phase_outcome::failed);
    if (!chip) return std::move(chip).error();
    report.chip = *chip;
    const chip_info& c = *chip->chip;
    auto fuses = read_fuses(rom, c);
    if (!fuses) return std::move(fuses).error();
    report.chip->fuses = *fuses;

    // A stub an interrupted earlier run left behind answers SYNC
    // with 0: talk to it as it is rather than upload another through it.
    if (link->sync_value == 0) {
        rom.set_stub_running();
        report.stub = "already running";
        report.warnings.push_back("a flasher stub left by an earlier run answered: using it");
    }
    auto stub = stub_for_session(rom, request, *chip, report);
    if (!stub) return std::move(stub).error();
    // Where the ROM can switch, switch first: the stub then loads at the fast rate and keeps it.
    // The ESP8266 ROM cannot: the stub loads at 115200 and switches itself.
    if (*stub && !c.rom_change_baud) {
        if (auto started = start_stub(rom, **stub, report, progress); !started) return started;
        if (auto switched = switch_baud(rom, request, report); !switched) return switched;
    } else {
        if (auto switched = switch_baud(rom, request, report); !switched) return switched;
        if (*stub) {
            if (auto started = start_stub(rom, **stub, report, progress); !started) return started;
        }
    }

    auto attached = attach_flash(rom, c);
    if (!attached) return attached;
    std::optional<std::uint32_t> detected;
    if (!request.flash_size) {
        auto id = read_flash_id(rom, c);
        if (!id) return std::move(id).error();
        report.flash_id = *id;
        if (*id) {
            detected = flash_size_from_jedec(**id);
            if (!detected)
                report.warnings.push_back(**id == 0 || **id == 0xFFFFFF
                                              ? "the flash chip did not answer when asked for its ID"
                                              : "the flash chip answered with JEDEC ID " + hex_digits(**id, 6) +
                                                    ", which names no size otaflash knows");
        }
    }
    flash_size_choice flash = choose_flash_size(c, request.regions, request.flash_size, detected, report.flash_id);
    report.flash_size = flash.size;
    report.flash_size_source = flash.source;
    for (auto& w : flash.warnings) report.warnings.push_back(std::move(w));

    auto checked = check(c, flash);
    if (!checked) return checked;
    return set_flash_size(rom, c, flash.size);
}

bool md5_possible(const loader& rom, const chip_identity& chip) {
    return (chip.chip->rom_md5 || rom.stub_running()) && !(chip.security && chip.security->secure_download_mode());
}

result<void> end_session(loader& rom, const session_request& request, session_report& report, progress_sink& progress) {
    progress.phase_begin(phase::reset, {});
    auto done = finish(rom, *report.chip->chip, request.after, request.usb);
    progress.phase_end(phase::reset, done ? phase_outcome::ok : phase_outcome::failed);
    if (!done) return std::move(done).error();
    report.after = *done;
    return {};
}

failure mismatch(const std::string& label, std::uint32_t offset, std::uint64_t size, const std::string& device,
                 const std::string& expected, const std::optional<difference>& where, const char* when) {
    std::string message = "flash " + flash_range(offset, size) + " does not match " + label + when + ": MD5 " +
                          device + " on the device, " + expected + " expected";
    if (where) message += "; first difference at " + describe(*where);
    return make_failure(errc::flash_md5_mismatch, message,
                        "the flash does not hold these bytes: write the file again; if it keeps differing, the flash "
                        "chip is failing or badly powered");
}

// Ends a job with `f`, keeping what the report learned so far.
template <class Outcome>
auto failing(Outcome& out) {
    return [&out](failure f) {
        out.error = std::move(f);
        return std::move(out);
    };
}

}  // namespace

flash_outcome flash_regions(port& line, log_sink& log, const flash_request& request, progress_sink& progress) {
    flash_outcome out;
    flash_report& report = out.report;
    report.port = line.name();
    auto fail = failing(out);
    if (auto overlap = check_layout(request.regions)) return fail(*overlap);

    loader rom(line, log, request.limits);
    auto opened = open_session(rom, request, report, progress,
                               [&](const chip_info& chip, const flash_size_choice& flash) -> result<void> {
                                   safety_report safety = check_regions(chip, request.regions, flash, request.force);
                                   for (auto& w : safety.warnings) report.warnings.push_back(std::move(w));
                                   if (safety.refusal) return *safety.refusal;
                                   return {};
                               });
    if (!opened) return fail(std::move(opened).error());
    report.can_verify = md5_possible(rom, *report.chip);

    const chip_info& chip = *report.chip->chip;
    for (const auto& input : request.regions) {
        region_plan plan = plan_region(input.offset, input.data);
        written_region region;
        region.label = input.label;
        region.offset = input.offset;
        region.size = static_cast<std::uint32_t>(input.data.size());
        region.written_offset = plan.offset;
        region.written_size = static_cast<std::uint32_t>(plan.data.size());
        region.md5 = to_hex(plan.md5);
        auto stats = write_region(rom, chip, plan, request.compress, progress);
        if (!stats) return fail(std::move(stats).error());
        region.stats = *stats;
        if (report.can_verify) {
            progress.phase_begin(phase::verify, input.label);
            auto device = flash_md5(rom, plan.offset, region.written_size);
            if (!device) {
                progress.phase_end(phase::verify, phase_outcome::failed);
                return fail(std::move(device).error());
            }
            if (*device != region.md5) {
                auto where = locate_difference(rom, chip, plan.offset, plan.data);
                progress.phase_end(phase::verify, phase_outcome::failed);
                if (!where) return fail(std::move(where).error());
                report.regions.push_back(std::move(region));
                return fail(mismatch(input.label, plan.offset, plan.data.size(), *device, report.regions.back().md5,
                                     *where, " after writing"));
            }
            progress.phase_end(phase::verify, phase_outcome::ok);
            region.verified = true;
        }
        report.regions.push_back(std::move(region));
    }
    if (auto ended = end_session(rom, request, report, progress); !ended) return fail(std::move(ended).error());
    return out;
}

verify_outcome verify_regions(port& line, log_sink& log, const verify_request& request, progress_sink& progress) {
    verify_outcome out;
    verify_report& report = out.report;
    report.port = line.name();
    auto fail = failing(out);

    loader rom(line, log, request.limits);
    auto opened = open_session(rom, request, report, progress,
                               [&](const chip_info& c, const flash_size_choice& flash) -> result<void> {
        if (md5_possible(rom, *report.chip)) {
            if (auto too_large = check_fit(c, request.regions, flash)) return *too_large;
            return {};
        }
        if (!c.rom_md5)
            return make_failure(errc::verify_unsupported,
                                "the " + std::string(c.display_name) +
                                    " ROM cannot verify flash without a flasher stub: nothing was compared",
                                "its ROM has no MD5 or flash-read command: give esptool's flasher stub with --stub, "
                                "or check the firmware's own behaviour instead");
        return make_failure(errc::verify_unsupported,
                            "the chip is in Secure Download Mode, which forbids reading the flash: nothing was compared",
                            "verification is not possible on this chip in this mode");
    });
    if (!opened) return fail(std::move(opened).error());

    const chip_info& chip = *report.chip->chip;
    std::optional<failure> first_mismatch;
    for (const auto& input : request.regions) {
        compared_region region;
        region.label = input.label;
        region.offset = input.offset;
        bytes expected = input.data;
        while (expected.size() % 4 != 0) expected.push_back(0xFF);  // as written (esptool pads the same way)
        region.size = static_cast<std::uint32_t>(expected.size());
        region.file_md5 = to_hex(md5(expected));
        progress.phase_begin(phase::verify, input.label);
        auto device = flash_md5(rom, input.offset, region.size);
        if (!device) {
            progress.phase_end(phase::verify, phase_outcome::failed);
            return fail(std::move(device).error());
        }
        region.flash_md5 = *device;
        region.match = *device == region.file_md5;
        if (!region.match) {
            auto where = locate_difference(rom, chip, input.offset, expected);
            if (!where) {
                progress.phase_end(phase::verify, phase_outcome::failed);
                return fail(std::move(where).error());
            }
            region.first_difference = *where;
            if (!first_mismatch)
                first_mismatch = mismatch(input.label, input.offset, expected.size(), region.flash_md5, region.file_md5,
                                          *where, "");
        }
        progress.phase_end(phase::verify, region.match ? phase_outcome::ok : phase_outcome::failed);
        report.regions.push_back(std::move(region));
    }
    if (first_mismatch) return fail(*first_mismatch);
    if (auto ended = end_session(rom, request, report, progress); !ended) return fail(std::move(ended).error());
    return out;
}

}  // namespace otaflash::rom
