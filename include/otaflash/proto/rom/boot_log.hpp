#pragma once
// What the bytes outside SLIP frames say when SYNC gets no answer: the ROM's boot log, an
// application's output or panic, or unreadable bytes (wrong baud rate, wrong device).

#include <otaflash/util/bytes.hpp>

#include <string>

namespace otaflash::rom {

struct boot_evidence {
    enum class kind {
        nothing,          // the line stayed silent
        download_mode,    // the ROM said it waits for download (ESP32 "waiting for download", ESP8266 "boot mode:(1,…)")
        normal_boot,      // the ROM booted from flash: the strapping pins were not in download position
        panic,            // an application is running and crashed (Guru Meditation, abort, exception)
        application_text, // readable text, but no boot log: an application is talking on this port
        unreadable,       // mostly non-text bytes: another baud rate or not an Espressif chip
    };
    kind what = kind::nothing;
    std::string boot_mode;  // "0x13 (SPI_FAST_FLASH_BOOT)" or "(3,7)" when a boot log said it
    std::string excerpt;    // one printable line of what came, for the message
};

boot_evidence read_boot_evidence(byte_view noise);

}  // namespace otaflash::rom
