#pragma once
// The little the ROM conversation needs from a serial line, esp-serial-flasher style: write, read
// with a deadline, baud rate, the two modem lines, and the clock. The core is written against this
// interface only; the io layer implements it over a tty, TCP or RFC 2217, and the tests over
// scripted bytes and a manual clock.

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace otaflash::rom {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;

class port {
public:
    virtual ~port() = default;

    virtual time_point now() = 0;

    // All of `data`, or a failure (deadline, I/O error, interruption).
    virtual result<void> write(byte_view data, time_point deadline) = 0;

    // Waits until some bytes are there or `deadline` passes; returns how many were read, 0 when
    // the deadline passed first. A deadline in the past only takes what is already waiting.
    virtual result<std::size_t> read(std::span<std::uint8_t> into, time_point deadline) = 0;

    // Discards whatever the line delivered and nobody read yet.
    virtual void discard_input() = 0;

    virtual result<void> set_baud(std::uint32_t baud) = 0;
    virtual std::uint32_t baud() const = 0;

    // Sets DTR and RTS together (true = asserted = the chip's pin pulled low). Returns false when
    // this port has no modem lines (a pty, a raw TCP socket): not an error, the reset just cannot
    // happen from here.
    virtual result<bool> set_lines(bool dtr, bool rts) = 0;

    // Interruptible sleep (a signal ends it with a failure).
    virtual result<void> sleep_until(time_point until) = 0;

    // For messages: "/dev/ttyUSB0", "rfc2217://127.0.0.1:4000".
    virtual std::string name() const = 0;
};

}  // namespace otaflash::rom
