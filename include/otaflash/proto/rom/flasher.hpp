#pragma once
// The two jobs `otaflash serial` and `otaflash verify --port` run, as step sequences over a port:
//   connect → identify the chip → check the files against it → baud rate → attach the flash →
//   per region: erase + write (+ MD5 where the ROM can) / MD5 compare → after-action.
// Nothing is reported written unless the ROM accepted every block; nothing is reported verified
// unless the ROM's MD5 of the region equals ours.

#include <otaflash/chip/chip.hpp>
#include <otaflash/log.hpp>
#include <otaflash/progress.hpp>
#include <otaflash/proto/rom/connect.hpp>
#include <otaflash/proto/rom/detect.hpp>
#include <otaflash/proto/rom/flash_id.hpp>
#include <otaflash/proto/rom/flash_read.hpp>
#include <otaflash/proto/rom/flash_write.hpp>
#include <otaflash/proto/rom/safety.hpp>
#include <otaflash/proto/rom/setup.hpp>
#include <otaflash/proto/rom/stub.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::rom {

struct session_request {
    std::vector<region_input> regions;         // the files and where they go
    const chip_info* expected_chip = nullptr;  // --chip; nullptr: whatever answers
    std::uint32_t baud = 921600;               // after SYNC at 115200
    connect_options connect;
    after_action after = after_action::hard_reset;
    bool usb = false;                          // the port is the chip's own USB: longer reset pulses
    std::optional<std::uint32_t> flash_size;   // --flash-size
    timeouts limits;
    // The flasher stub for the chip found, asked once the chip is known; unset or nullopt: the
    // ROM does the work. A failure (a stub file that cannot be read) ends the job; what the user
    // should hear about the choice goes into `notes` (the report's warnings).
    std::function<result<std::optional<flasher_stub>>(const chip_info&, std::vector<std::string>& notes)> stub_for;
};

// What the session learned before the region work; filled as far as it got.
struct session_report {
    std::string port;
    std::optional<connection> link;
    std::optional<chip_identity> chip;
    std::optional<baud_result> baud;
    std::optional<std::uint32_t> flash_id;  // JEDEC ID, when the flash chip told it
    std::optional<std::uint32_t> flash_size;
    std::string flash_size_source;
    std::string stub;  // the flasher stub that did the work (its source); empty: the ROM did
    std::vector<std::string> warnings;
    std::string after;  // what happened to the chip at the end; empty when the job failed first
};

struct flash_request : session_request {
    bool compress = true;  // where the loader inflates (ESP32-family ROMs, every stub)
    bool force = false;    // write images built for another chip
};

struct written_region {
    std::string label;
    std::uint32_t offset = 0;       // as asked
    std::uint32_t size = 0;         // the file's bytes
    std::uint32_t written_offset = 0;  // sector-aligned start actually erased and written
    std::uint32_t written_size = 0;    // bytes written from there (0xFF lead and 4-byte padding included)
    std::string md5;                // of those bytes
    write_stats stats;
    bool verified = false;          // the ROM's MD5 of the region matched
};

struct flash_report : session_report {
    std::vector<written_region> regions;
    bool can_verify = false;  // the loader computes MD5s (a stub; ESP32-family ROMs outside Secure Download Mode)
};

struct flash_outcome {
    flash_report report;
    std::optional<failure> error;
};

flash_outcome flash_regions(port& line, log_sink& log, const flash_request& request, progress_sink& progress);

struct verify_request : session_request {};

struct compared_region {
    std::string label;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;        // compared bytes (the file padded to 4 with 0xFF)
    std::string file_md5;
    std::string flash_md5;
    bool match = false;
    std::optional<difference> first_difference;
};

struct verify_report : session_report {
    std::vector<compared_region> regions;
};

struct verify_outcome {
    verify_report report;
    std::optional<failure> error;
};

// Fails with errc::verify_unsupported where the loader cannot compute an MD5 (the ESP8266 ROM
// without a stub, Secure Download Mode) and with errc::flash_md5_mismatch naming the first differing region when one differs.
verify_outcome verify_regions(port& line, log_sink& log, const verify_request& request, progress_sink& progress);

}  // namespace otaflash::rom
