// `otaflash serve` against clients that misbehave: traversal, oversized and garbled requests,
// unknown methods, a thousand idle connections, devices that vanish mid-body, a release file
// replaced during a transfer, a port already taken, a stop with transfers in flight.

#include "serve_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/io/limits.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace otaflash;
using namespace otaflash::test;
using namespace std::chrono_literals;

namespace {

std::string text_of(const bytes& b) { return std::string(b.begin(), b.end()); }

// A raw connection whose receive buffer is small, so the server cannot push a whole image into
// the kernel: the test decides how much the "device" reads.
class slow_device {
public:
    explicit slow_device(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int small = 4096;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::close(std::exchange(fd_, -1));
    }
    ~slow_device() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool connected() const { return fd_ >= 0; }
    void send(const std::string& text) { (void)::send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
    // Reads until `count` bytes arrived in total (head included), the peer closed, or `timeout`.
    std::size_t read_until(std::size_t count, std::chrono::milliseconds timeout = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        char buf[16384];
        while (received_.size() < count && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) continue;
            auto n = ::recv(fd_, buf, std::min(sizeof buf, count - received_.size()), 0);
            if (n <= 0) break;
            received_.append(buf, static_cast<std::size_t>(n));
        }
        return received_.size();
    }
    // Gone without a goodbye: a reset, as a device losing power or its link.
    void vanish() {
        linger l{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        ::close(std::exchange(fd_, -1));
    }
    const std::string& received() const { return received_; }

private:
    int fd_ = -1;
    std::string received_;
};

std::string device_request(const std::string& mac, std::uint16_t port) {
    return request_text("GET", "/firmware.bin", port,
                        {{"User-Agent", "ESP32-http-Update"}, {"x-ESP32-STA-MAC", mac}, {"x-ESP32-version", "1.0.0"}});
}

}  // namespace

struct ServeHostile : ::testing::Test {
    temp_dir dir;
    bytes image = esp32_image(64 * 1024);
    std::string file = dir.write("app.bin", image);
};

TEST_F(ServeHostile, PathTraversalNeverLeavesTheReleases) {
    serve_process s({file});
    ASSERT_TRUE(s.started()) << s.first_line();
    for (const char* target : {"/../etc/passwd", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                               "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/firmware.bin/../../etc/passwd", "/..%5c..%5cetc%5cpasswd",
                               "/..\\..\\etc\\passwd", "//etc/passwd", "/./firmware.bin", "/%00", "/%zz",
                               "http://127.0.0.1/../etc/passwd", "etc/passwd"}) {
        auto r = http_exchange(s.port(), "GET " + std::string(target) + " HTTP/1.0\r\n\r\n");
        ASSERT_TRUE(r) << target;
        EXPECT_EQ(r->status, 400) << target;
        EXPECT_EQ(r->body.find("root:"), std::string::npos) << target;
    }
    for (const char* target : {"/etc/passwd", "/firmware/../app.bin", "/app.bin", "/firmware/0123.bin"}) {
        auto r = http_exchange(s.port(), "GET " + std::string(target) + " HTTP/1.0\r\n\r\n");
        ASSERT_TRUE(r) << target;
        EXPECT_TRUE(r->status == 400 || r->status == 404) << target << " " << r->status;
        EXPECT_NE(r->status, 200) << target;
    }
    EXPECT_TRUE(s.wait_line("400 bad request path"));
}

TEST_F(ServeHostile, OversizedGarbledAndUnknownRequests) {
    serve_process s({file});
    ASSERT_TRUE(s.started()) << s.first_line();
    auto long_line = http_exchange(s.port(), "GET /" + std::string(10000, 'a') + " HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(long_line);
    EXPECT_EQ(long_line->status, 431);
    std::string many = "GET /version HTTP/1.0\r\n";
    for (int i = 0; i < 100; ++i) many += "x-filler-" + std::to_string(i) + ": " + std::string(200, 'v') + "\r\n";
    auto big_headers = http_exchange(s.port(), many + "\r\n");
    ASSERT_TRUE(big_headers);
    EXPECT_EQ(big_headers->status, 431);
    EXPECT_EQ(big_headers->body, "request header fields too large\n");
    auto garbage = http_exchange(s.port(), std::string("\x16\x03\x01\x02 nonsense\r\n\r\n"));
    ASSERT_TRUE(garbage);
    EXPECT_EQ(garbage->status, 400);
    auto bad_version = http_exchange(s.port(), "GET /version HTTP/9.9\r\n\r\n");
    ASSERT_TRUE(bad_version);
    EXPECT_EQ(bad_version->status, 400);

    auto brew = http_exchange(s.port(), "BREW /firmware.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(brew);
    EXPECT_EQ(brew->status, 405);
    EXPECT_EQ(brew->header("Allow"), "GET, HEAD");
    auto post = http_exchange(s.port(), "POST /firmware.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->status, 405);
    EXPECT_EQ(post->header("Connection"), "close");  // the body is never read: the connection ends
    // Still serving.
    EXPECT_EQ(http_get(s.port(), "/version")->body, "2.4.0");
}

TEST_F(ServeHostile, AThousandIdleAndSlowHeaderConnectionsDoNotDelayARequest) {
    raise_open_files_limit(4096);
    serve_process s({file, "--idle-timeout", "3s"});
    ASSERT_TRUE(s.started()) << s.first_line();
    std::vector<int> idle;
    for (int i = 0; i < 1000; ++i) {
        int fd = connect_loopback(s.port());
        ASSERT_GE(fd, 0) << "connection " << i;
        // Half say nothing, half start a request head and never finish it (slowloris).
        if (i % 2) (void)::send(fd, "GET /firmware.bin HTTP/1.1\r\nHost: x\r\n", 37, MSG_NOSIGNAL);
        idle.push_back(fd);
    }
    const auto start = std::chrono::steady_clock::now();
    auto r = http_get(s.port(), "/firmware.bin");
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, text_of(image));
    EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    // After --idle-timeout the server has closed them all.
    std::this_thread::sleep_for(3500ms);
    int closed = 0;
    for (int fd : idle) {
        pollfd p{fd, POLLIN, 0};
        char c;
        if (::poll(&p, 1, 1000) > 0 && ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0) ++closed;
        ::close(fd);
    }
    EXPECT_EQ(closed, 1000);
}

TEST_F(ServeHostile, ADeviceVanishingMidBodyIsIncompleteAndNeverDelivered) {
    const bytes big = esp32_image(2 * 1024 * 1024, "3.0.0", 3);
    const auto big_file = dir.write("big.bin", big);
    serve_process s({big_file, "--expect", "24:0A:C4:00:00:07", "--deadline", "4s"});
    ASSERT_TRUE(s.started()) << s.first_line();
    slow_device device(s.port());
    ASSERT_TRUE(device.connected());
    device.send(device_request("24:0A:C4:00:00:07", s.port()));
    EXPECT_GE(device.read_until(64 * 1024), 64u * 1024);
    device.vanish();
    auto line = s.wait_line(" failed GET /firmware.bin");
    ASSERT_TRUE(line);
    EXPECT_NE(line->find("incomplete"), std::string::npos) << *line;
    EXPECT_EQ(line->find(" (" + std::to_string(big.size()) + "/"), std::string::npos) << *line;
    auto r = s.stop(0, 10s);
    EXPECT_EQ(r.exit_code, 12) << r.err;  // some_targets_failed: its last attempt broke
    EXPECT_TRUE(s.wait_line("0 complete downloads", 0ms));
}

// A small image fits in the kernel's buffers at once: written is not delivered. Only the
// device's acknowledgement of the last byte counts, so a device that resets first has failed.
TEST_F(ServeHostile, AnImageWrittenToTheKernelButNotAcknowledgedIsNotDelivered) {
    const bytes small = esp32_image(20 * 1024, "3.0.0", 4);
    const auto small_file = dir.write("small.bin", small);
    serve_process s({small_file});
    ASSERT_TRUE(s.started()) << s.first_line();
    slow_device device(s.port());
    device.send(device_request("24:0A:C4:00:00:0B", s.port()));
    device.read_until(1024);
    std::this_thread::sleep_for(300ms);  // the server has written everything by now
    device.vanish();
    auto line = s.wait_line("24:0A:C4:00:00:0B http ");
    ASSERT_TRUE(line);
    EXPECT_NE(line->find(" failed GET /firmware.bin"), std::string::npos) << *line;
    EXPECT_NE(line->find("incomplete"), std::string::npos) << *line;
}

TEST_F(ServeHostile, AReleaseFileReplacedDuringATransferNeverMixesTwoFiles) {
    const bytes first = esp32_image(1024 * 1024, "2.0.0", 11);
    const bytes second = esp32_image(1024 * 1024, "2.0.1", 12);
    const auto path = dir.write("release.bin", first);
    serve_process s({path});
    ASSERT_TRUE(s.started()) << s.first_line();
    slow_device device(s.port());
    device.send(device_request("24:0A:C4:00:00:08", s.port()));
    device.read_until(100 * 1024);
    dir.write("release.bin", second);  // replaced on disk while the device is mid-transfer
    device.read_until(first.size() + 4096);
    auto reply = parse_reply(device.received());
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->body.size(), first.size());
    EXPECT_EQ(md5_hex(reply->body), to_hex(md5(first)));
    EXPECT_EQ(reply->header("x-MD5"), to_hex(md5(first)));
    // Later requests still get the release as loaded and checked at start.
    EXPECT_EQ(md5_hex(http_get(s.port(), "/firmware.bin")->body), to_hex(md5(first)));
}

TEST_F(ServeHostile, APortInUseExitsNine) {
    serve_process first({file});
    ASSERT_TRUE(first.started()) << first.first_line();
    auto r = run_otaflash({"serve", file, "--listen", "127.0.0.1:" + std::to_string(first.port())});
    EXPECT_EQ(r.exit_code, 9);
    EXPECT_NE(r.err.find("TCP port 127.0.0.1:" + std::to_string(first.port()) + " is already in use"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");  // nothing listened
    auto bad = run_otaflash({"serve", file, "--listen", "localhost:80x"});
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("is not ADDR:PORT"), std::string::npos) << bad.err;
}

TEST_F(ServeHostile, StopLetsTransfersInFlightFinishWithinTheGrace) {
    const bytes big = esp32_image(1024 * 1024, "3.0.0", 5);
    const auto big_file = dir.write("big.bin", big);
    {
        serve_process s({big_file, "--grace", "10s"});
        ASSERT_TRUE(s.started()) << s.first_line();
        slow_device device(s.port());
        device.send(device_request("24:0A:C4:00:00:09", s.port()));
        device.read_until(50 * 1024);
        ::kill(s.process().pid(), SIGTERM);
        std::this_thread::sleep_for(200ms);
        EXPECT_EQ(connect_loopback(s.port()), -1);  // no longer accepting
        device.read_until(big.size() + 4096);
        auto reply = parse_reply(device.received());
        ASSERT_TRUE(reply);
        EXPECT_EQ(reply->body.size(), big.size());
        auto r = s.stop(0, 10s);
        EXPECT_EQ(r.exit_code, 143);
        EXPECT_TRUE(s.wait_line(" delivered GET /firmware.bin", 0ms));
    }
    {
        serve_process s({big_file, "--grace", "300ms"});
        ASSERT_TRUE(s.started()) << s.first_line();
        slow_device device(s.port());
        device.send(device_request("24:0A:C4:00:00:0A", s.port()));
        device.read_until(50 * 1024);  // then stalls
        auto r = s.stop(SIGINT, 10s);
        EXPECT_EQ(r.exit_code, 130);
        auto line = s.wait_line(" failed GET /firmware.bin", 0ms);
        ASSERT_TRUE(line);
        EXPECT_NE(line->find("cut when the grace period ended"), std::string::npos) << *line;
    }
}
