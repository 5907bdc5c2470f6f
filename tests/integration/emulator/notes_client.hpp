#pragma once
// A ROM bootloader client written straight from ../shared/protocols/rom-bootloader.md, on purpose
// independent of otaflash's own codecs and flasher: POSIX open + termios on the pty, SLIP by hand,
// responses matched by direction and opcode (§1.3), SYNC as esptool does it (§2.1, §9.5).
// Every read has a deadline.

#include <otaflash/util/bytes.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <termios.h>
#include <unistd.h>
#include <vector>

namespace otaflash::test {

class notes_client {
public:
    struct reply {
        std::uint8_t opcode = 0;
        std::uint32_t value = 0;
        bytes data;
    };

    explicit notes_client(const std::string& path, speed_t speed = B115200) {
        fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd_ < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
        set_baud(speed);
    }
    ~notes_client() { if (fd_ >= 0) ::close(fd_); }
    notes_client(const notes_client&) = delete;
    notes_client& operator=(const notes_client&) = delete;

    void set_baud(speed_t speed) {
        termios tio{};
        ::tcgetattr(fd_, &tio);
        ::cfmakeraw(&tio);
        ::cfsetspeed(&tio, speed);
        ::tcsetattr(fd_, TCSANOW, &tio);
    }

    void write_raw(const bytes& data) {
        std::size_t put = 0;
        const auto deadline = clock::now() + std::chrono::seconds(5);
        while (put < data.size() && clock::now() < deadline) {
            const ssize_t n = ::write(fd_, data.data() + put, data.size() - put);
            if (n > 0) put += static_cast<std::size_t>(n);
            else if (n < 0 && errno != EAGAIN && errno != EINTR) throw std::runtime_error("write failed");
            else wait(POLLOUT, std::chrono::milliseconds(20));
        }
    }

    // §1.1/§1.2: C0, escaped header + data, C0.
    void command(std::uint8_t opcode, const bytes& data, std::uint32_t checksum = 0) {
        bytes packet{0x00, opcode, static_cast<std::uint8_t>(data.size()), static_cast<std::uint8_t>(data.size() >> 8)};
        append_le32(packet, checksum);
        packet.insert(packet.end(), data.begin(), data.end());
        bytes wire{0xC0};
        for (auto b : packet) {
            if (b == 0xDB) { wire.push_back(0xDB); wire.push_back(0xDD); }
            else if (b == 0xC0) { wire.push_back(0xDB); wire.push_back(0xDC); }
            else wire.push_back(b);
        }
        wire.push_back(0xC0);
        write_raw(wire);
    }

    // §1.3: frames with direction != 1, shorter than 8 bytes or of another opcode are skipped.
    std::optional<reply> response(std::uint8_t opcode, std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        for (;;) {
            while (!frames_.empty()) {
                bytes f = std::move(frames_.front());
                frames_.erase(frames_.begin());
                if (f.size() < 8 || f[0] != 0x01 || f[1] != opcode) continue;
                const std::size_t size = load_le16(f.data() + 2);
                if (f.size() != 8 + size) continue;
                return reply{f[1], load_le32(f.data() + 4), bytes(f.begin() + 8, f.end())};
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0) return std::nullopt;
            pump(left);
        }
    }

    std::optional<reply> call(std::uint8_t opcode, const bytes& data, std::uint32_t checksum = 0,
                              std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
        command(opcode, data, checksum);
        return response(opcode, timeout);
    }

    // §2.1 SYNC: first reply within 0.1 s, then up to 7 more; returns how many arrived on the
    // attempt that got any (0 when every attempt stayed silent).
    int sync(int attempts = 5) {
        bytes payload{0x07, 0x07, 0x12, 0x20};
        payload.insert(payload.end(), 32, 0x55);
        for (int a = 0; a < attempts; ++a) {
            command(0x08, payload);
            if (!response(0x08, std::chrono::milliseconds(100))) continue;
            int count = 1;
            while (count < 8 && response(0x08, std::chrono::milliseconds(300))) ++count;
            return count;
        }
        return 0;
    }

    // §1.4 data packet: u32 len, u32 seq, 0, 0, data; checksum 0xEF ^ every data byte.
    static bytes data_packet(std::uint32_t seq, const bytes& block) {
        bytes out;
        append_le32(out, static_cast<std::uint32_t>(block.size()));
        append_le32(out, seq);
        append_le32(out, 0);
        append_le32(out, 0);
        out.insert(out.end(), block.begin(), block.end());
        return out;
    }
    static std::uint32_t checksum(const bytes& block) {
        std::uint8_t sum = 0xEF;
        for (auto b : block) sum ^= b;
        return sum;
    }

    // §1.3: the status sits right after the command's payload of `payload_len` bytes.
    static std::pair<int, int> status(const reply& r, std::size_t payload_len = 0) {
        if (r.data.size() < payload_len + 2) return {r.data.empty() ? 1 : r.data[0], -1};
        return {r.data[payload_len], r.data[payload_len + 1]};
    }

    void flush_input() {
        ::tcflush(fd_, TCIFLUSH);
        frames_.clear();
        in_frame_ = false;
        escape_ = false;
        frame_.clear();
    }

    // The next frame of any kind (OHAI, READ_FLASH data), header or not; nullopt after `timeout`.
    std::optional<bytes> next_frame(std::chrono::milliseconds timeout) {
        const auto deadline = clock::now() + timeout;
        while (frames_.empty()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0) return std::nullopt;
            pump(left);
        }
        bytes f = std::move(frames_.front());
        frames_.erase(frames_.begin());
        return f;
    }

    // Bytes seen outside any frame (boot logs, junk).
    const bytes& noise() const noexcept { return noise_; }

    // Reads whatever arrives for `time`.
    void drain(std::chrono::milliseconds time) {
        const auto deadline = clock::now() + time;
        for (auto left = time; left.count() > 0;
             left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()))
            pump(left);
    }

private:
    using clock = std::chrono::steady_clock;

    bool wait(short events, std::chrono::milliseconds timeout) {
        pollfd p{fd_, events, 0};
        return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
    }

    void pump(std::chrono::milliseconds timeout) {
        if (!wait(POLLIN, timeout)) return;
        std::uint8_t buffer[4096];
        const ssize_t n = ::read(fd_, buffer, sizeof buffer);
        for (ssize_t i = 0; i < n; ++i) feed(buffer[i]);
    }

    // §1.1: discard bytes until C0; an empty frame between two C0 is nothing.
    void feed(std::uint8_t b) {
        if (!in_frame_) {
            if (b == 0xC0) { in_frame_ = true; frame_.clear(); }
            else noise_.push_back(b);
            return;
        }
        if (escape_) {
            escape_ = false;
            if (b == 0xDC) frame_.push_back(0xC0);
            else if (b == 0xDD) frame_.push_back(0xDB);
            else { in_frame_ = b == 0xC0; frame_.clear(); }  // framing error: drop the frame
            return;
        }
        if (b == 0xDB) { escape_ = true; return; }
        if (b == 0xC0) {
            if (!frame_.empty()) { frames_.push_back(frame_); frame_.clear(); in_frame_ = false; }
            return;
        }
        frame_.push_back(b);
    }

    int fd_ = -1;
    bool in_frame_ = false, escape_ = false;
    bytes frame_, noise_;
    std::vector<bytes> frames_;
};

}  // namespace otaflash::test
