#pragma once
// The firmware's Update/Updater object as the three libraries implement it: begin() checks the
// space, write() fills a 4096-byte sector buffer and "flashes" full sectors, end() checks the MD5
// and the image, printError() renders the error the way that library does (espota.md §7).
// Flash is a byte vector; flashing costs no time here (the session prices it with --flash-rate).

#include "emulator/ota/kind.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <string>

namespace otaflash::emulator::ota {

inline constexpr std::size_t flash_sector_size = 4096;

// Updater error numbers (UPDATE_ERROR_*). The esp8266 and pico numbering differs from esp32's.
namespace update_error {
inline constexpr int ok = 0;
inline constexpr int space = 4;
inline constexpr int size = 5;
inline constexpr int md5 = 7;
inline constexpr int esp8266_magic = 10;
inline constexpr int esp8266_no_data = 13;
inline constexpr int esp32_magic = 8;
inline constexpr int esp32_abort = 12;
}  // namespace update_error

class updater {
public:
    // `space`: bytes available for an update (sketch space or filesystem partition).
    updater(updater_family family, std::uint64_t space);

    // Update.begin(size, command). `refuse_space` makes the space check fail whatever the size.
    bool begin(std::int32_t size, int command, bool refuse_space = false);
    // Update.setMD5(): the invitation's MD5 as received.
    void set_md5(std::string expected) { target_md5_ = std::move(expected); }

    struct write_result {
        std::size_t written = 0;  // what Update.write() returns
        std::size_t flashed = 0;  // bytes that went to flash during the call (for timing)
    };
    // Update.write(data, len).
    write_result write(byte_view data);
    // How many bytes esp8266/pico's Update.write(client) takes from the socket in one step.
    std::size_t drain_room() const noexcept;

    bool running() const noexcept { return size_ > 0; }
    bool finished() const noexcept { return progress_ == size_; }  // also true once aborted (both 0)
    bool has_error() const noexcept { return error_ != update_error::ok; }
    int error() const noexcept { return error_; }

    bool end();
    void abort();  // esp32 Update.abort()

    // printError(): "ERROR[7]: MD5 verification failed: …\n" (esp8266), "MD5 Check Failed\r\n" (esp32)…
    std::string error_text() const;
    // The message alone, as errorString() or getErrorString() give it (for logs).
    std::string error_message() const;

    // Everything flashed so far, in order: the staged image once end() succeeded.
    const bytes& flash() const noexcept { return flash_; }
    // Lowercase hex MD5 of the flashed bytes (what the updater compares).
    std::string calculated_md5() const;

private:
    bool flush();
    void fail(int error);
    std::size_t remaining() const noexcept { return size_ - progress_; }

    updater_family family_;
    std::uint64_t space_;
    int command_ = 0;
    std::size_t size_ = 0;
    std::size_t progress_ = 0;
    bytes buffer_;
    bytes flash_;
    std::string target_md5_;
    int error_ = update_error::ok;
    std::size_t flashed_in_call_ = 0;
};

}  // namespace otaflash::emulator::ota
