// Faults on request (--fault): each checked from a raw-socket host, with the event that reports it.

#include "ota_host.hpp"

#include "fixtures.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::test;

namespace {

constexpr ms answer_wait{3000};
constexpr ms accept_wait{5000};
constexpr std::size_t chunk = 1460;

std::vector<std::string> device_args(std::string kind, std::vector<std::string> extra) {
    std::vector<std::string> args{"--kind", std::move(kind), "--port", "0", "--time-scale", "0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

struct upload {
    udp_peer udp;
    tcp_server server;
    std::optional<tcp_stream> stream;

    upload(std::uint16_t device_port, const bytes& image) {
        udp.send_to(device_port, invitation(0, server.port(), image.size(), md5_hex(image)));
        EXPECT_EQ(udp.receive(answer_wait), "OK");
        stream = server.accept(accept_wait);
        if (!stream) throw std::runtime_error("the device did not connect back");
    }
};

TEST(OtaDeviceFault, DropAfterResetsTheConnection) {
    const bytes image = sample_image(5000);
    for (const std::string kind : {"esp8266", "esp32"}) {
        ota_device_process device(device_args(kind, {"--fault", "drop-after=2920"}));
        upload up(device.port(), image);
        ASSERT_TRUE(up.stream->send(byte_view(image).first(chunk)));
        EXPECT_EQ(up.stream->receive(ms(3000)).bytes, "1460") << kind;
        ASSERT_TRUE(up.stream->send(byte_view(image).subspan(chunk, chunk)));
        auto end = up.stream->receive_until_closed(ms(3000));
        EXPECT_TRUE(end.reset) << kind;
        EXPECT_EQ(end.bytes, "") << kind;
        auto e = device.wait_event("update");
        ASSERT_TRUE(e);
        EXPECT_EQ((*e)["received"], 2 * chunk);
        EXPECT_NE((*e)["error"].get<std::string>().find("drop-after=2920"), std::string::npos);
    }
}

TEST(OtaDeviceFault, StallAfterStopsReadingButKeepsTheConnectionOpen) {
    const bytes image = sample_image(5000);
    for (const std::string kind : {"esp8266", "esp32"}) {
        ota_device_process device(device_args(kind, {"--fault", "stall-after=1460"}));
        upload up(device.port(), image);
        ASSERT_TRUE(up.stream->send(byte_view(image).first(chunk)));
        EXPECT_EQ(up.stream->receive(ms(3000)).bytes, "1460") << kind;
        ASSERT_TRUE(up.stream->send(byte_view(image).subspan(chunk, chunk)));
        // Longer than esp32's own receive timeout and retries (time-scaled to 0.4 s).
        EXPECT_TRUE(up.stream->quiet_for(ms(1500))) << kind;
        up.stream->shutdown_send();
        EXPECT_TRUE(up.stream->receive_until_closed(ms(3000)).ended);
        auto e = device.wait_event("update");
        ASSERT_TRUE(e);
        EXPECT_EQ((*e)["received"], chunk);
        EXPECT_NE((*e)["error"].get<std::string>().find("stall-after=1460"), std::string::npos);
    }
}

TEST(OtaDeviceFault, ConnectIdleNeitherReadsNorCloses) {
    const bytes image = sample_image(5000);
    ota_device_process device(device_args("esp32", {"--fault", "connect-idle"}));
    upload up(device.port(), image);
    ASSERT_TRUE(up.stream->send(byte_view(image).first(chunk)));
    EXPECT_TRUE(up.stream->quiet_for(ms(1500)));
    up.stream->close_with_reset();
    auto e = device.wait_event("update");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["received"], 0);
    EXPECT_NE((*e)["error"].get<std::string>().find("connect-idle"), std::string::npos);
}

TEST(OtaDeviceFault, NoConnectSaysOkAndNeverDials) {
    for (const std::string kind : {"esp8266", "esp32"}) {
        ota_device_process device(device_args(kind, {"--fault", "no-connect"}));
        udp_peer udp;
        tcp_server server;
        udp.send_to(device.port(), invitation(0, server.port(), 100, md5_hex(sample_image(100))));
        EXPECT_EQ(udp.receive(answer_wait), "OK") << kind;
        EXPECT_FALSE(server.accept(ms(1500))) << kind;
        auto e = device.wait_event("update");
        ASSERT_TRUE(e);
        EXPECT_EQ((*e)["stage"], "connect");
    }
}

TEST(OtaDeviceFault, EndErrorReplacesOk) {
    const bytes image = sample_image(2000);
    for (const std::string kind : {"esp8266", "esp32"}) {
        ota_device_process device(device_args(kind, {"--fault", "end-error=ERROR[1]: Flash Write Failed\n"}));
        upload up(device.port(), image);
        ASSERT_TRUE(up.stream->send(image));
        auto end = up.stream->receive_until_closed(ms(3000));
        EXPECT_TRUE(end.ended);
        // esp32 reads (and acks) at most 1460 bytes at a time.
        EXPECT_EQ(end.bytes, (kind == "esp8266" ? "2000" : "1460540") + std::string("ERROR[1]: Flash Write Failed\n"))
            << kind;
        auto e = device.wait_event("update");
        ASSERT_TRUE(e);
        EXPECT_EQ((*e)["ok"], false);
        EXPECT_EQ((*e)["error"], "ERROR[1]: Flash Write Failed\n");
    }
}

TEST(OtaDeviceFault, BadMd5CorruptsOneByteSoTheCheckFails) {
    const bytes image = sample_image(2000);
    bytes corrupted = image;
    corrupted.back() ^= 0xFF;
    temp_dir dir;
    ota_device_process device(device_args("esp8266", {"--fault", "bad-md5", "--out", dir.file("out.bin")}));
    upload up(device.port(), image);
    ASSERT_TRUE(up.stream->send(image));
    auto end = up.stream->receive_until_closed(ms(3000));
    EXPECT_EQ(end.bytes, "2000ERROR[7]: MD5 verification failed: expected: " + md5_hex(image) +
                             ", calculated: " + md5_hex(corrupted) + "\n");
    auto e = device.wait_event("update");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["md5"], md5_hex(corrupted));
    EXPECT_EQ((*e)["file"], nullptr);
}

// While an update runs, esp8266 drops invitations in its UDP callback; esp32 does not read UDP at
// all, so the invitation waits in the socket and is answered once the update is over.
TEST(OtaDeviceFault, InvitationsDuringAnUpdateAreDroppedOrQueuedByKind) {
    const bytes image = sample_image(5000);
    for (const std::string kind : {"esp8266", "esp32"}) {
        ota_device_process device(device_args(kind, {"--fault", "connect-idle"}));
        upload busy(device.port(), image);
        udp_peer late;
        tcp_server late_server;
        late.send_to(device.port(), invitation(0, late_server.port(), 100, md5_hex(sample_image(100))));
        EXPECT_FALSE(late.receive(ms(400))) << kind;
        busy.stream->close_with_reset();
        auto answer = late.receive(ms(1500));
        if (kind == "esp8266")
            EXPECT_FALSE(answer);
        else
            EXPECT_EQ(answer, "OK");
    }
}

}  // namespace

namespace {

// How much a host can push (up to `cap`) into a device that reads nothing: its own send buffer
// plus the device's receive window, which --recv-buffer sets.
std::size_t bytes_accepted_by_a_stalled_device(std::vector<std::string> extra, std::size_t cap) {
    const bytes image = sample_image(cap);
    std::vector<std::string> args{"--kind", "esp32", "--port", "0", "--fault", "connect-idle"};
    args.insert(args.end(), extra.begin(), extra.end());
    ota_device_process device(args);
    upload up(device.port(), image);
    up.stream->limit_send_buffer(4096);
    std::size_t sent = 0;
    while (sent < image.size() && up.stream->send(byte_view(image).subspan(sent, 1024), ms(300))) sent += 1024;
    return sent;
}

TEST(OtaDeviceFault, RecvBufferLimitsWhatTheDeviceTakesIn) {
    constexpr std::size_t cap = 96 * 1024;
    const std::size_t small = bytes_accepted_by_a_stalled_device({"--recv-buffer", "5744"}, cap);
    const std::size_t normal = bytes_accepted_by_a_stalled_device({}, cap);
    EXPECT_LT(small, 40u * 1024);
    EXPECT_EQ(normal, cap);
}

}  // namespace
