#pragma once
// Progress events flow up from the io layer; the CLI decides how to show them (bar, plain lines,
// JSON Lines, nothing). The io layer never prints.

#include <cstdint>
#include <string_view>

namespace otaflash {

enum class phase : std::uint8_t {
    resolve,   // name -> address
    invite,    // espota invitation
    auth,      // espota challenge/response
    connect,   // device dials back (espota) / serial sync (ROM)
    detect,    // chip detection
    stub,      // flasher stub upload and start (serial)
    erase,     // flash erase
    upload,    // image bytes
    confirm,   // waiting for the device's final word
    verify,    // digest comparison
    reset,     // reboot the device
};

std::string_view phase_name(phase p) noexcept;

enum class phase_outcome : std::uint8_t { ok, failed, skipped };

class progress_sink {
public:
    virtual ~progress_sink() = default;
    virtual void phase_begin(phase, std::string_view /*detail*/) {}
    // `done` of `total` bytes; total 0 means unknown.
    virtual void bytes_done(std::uint64_t /*done*/, std::uint64_t /*total*/) {}
    virtual void phase_end(phase, phase_outcome) {}
};

inline progress_sink& null_progress() {
    static progress_sink sink;
    return sink;
}

}  // namespace otaflash
