// The emulated device's data connection, checked from a raw-socket host: read sizes and acks,
// receive timeouts and retries, completion timing and texts, the written image (espota.md §5–§7).

#include "ota_host.hpp"

#include "fixtures.hpp"

#include <gtest/gtest.h>

#include <chrono>

using namespace otaflash;
using namespace otaflash::test;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr ms answer_wait{3000};
constexpr ms accept_wait{5000};
constexpr std::size_t espota_chunk = 1460;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::vector<std::string> device_args(std::string kind, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--kind", std::move(kind), "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// The host side of one upload: a UDP socket for the invitation and a listener for the device.
struct espota_host {
    udp_peer udp;
    tcp_server server;

    std::optional<std::string> invite(std::uint16_t device_port, const bytes& image, int command = 0,
                                      std::optional<std::string> md5 = std::nullopt) {
        udp.send_to(device_port, invitation(command, server.port(), image.size(), md5.value_or(md5_hex(image))));
        return udp.receive(answer_wait);
    }

    // Invites and accepts the connect-back; fails the test if either does not happen.
    tcp_stream open(std::uint16_t device_port, const bytes& image, int command = 0,
                    std::optional<std::string> md5 = std::nullopt) {
        auto reply = invite(device_port, image, command, md5);
        EXPECT_EQ(reply, "OK");
        auto stream = server.accept(accept_wait);
        if (!stream) throw std::runtime_error("the device did not connect back");
        return std::move(*stream);
    }
};

// espota's stop-and-wait: a chunk, then whatever the device answers; returns all that came back.
std::string stop_and_wait(tcp_stream& s, byte_view image, std::size_t chunk = espota_chunk) {
    std::string answers;
    for (std::size_t at = 0; at < image.size(); at += chunk) {
        EXPECT_TRUE(s.send(image.subspan(at, std::min(chunk, image.size() - at))));
        answers += s.receive(ms(10000)).bytes;
    }
    return answers;
}

std::string repeated_acks(std::size_t size, std::size_t chunk) {
    std::string acks;
    for (std::size_t at = 0; at < size; at += chunk) acks += std::to_string(std::min(chunk, size - at));
    return acks;
}

class OtaDeviceTransferEveryKind : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Kinds, OtaDeviceTransferEveryKind, ::testing::Values("esp8266", "esp32-legacy", "esp32", "rp2040"));

TEST_P(OtaDeviceTransferEveryKind, StopAndWaitUploadIsAckedConfirmedAndWrittenByteForByte) {
    temp_dir dir;
    const auto out = dir.file("received.bin");
    const bytes image = read_fixture_image("esp8266_deepsleep.bin");
    ota_device_process device(device_args(GetParam(), {"--out", out, "--updates", "1", "--time-scale", "0.1"}));
    espota_host host;
    auto s = host.open(device.port(), image);
    std::string answers = stop_and_wait(s, image);
    auto rest = s.receive_until_closed(ms(10000));
    EXPECT_TRUE(rest.ended);
    EXPECT_FALSE(rest.reset);
    EXPECT_EQ(answers + rest.bytes, repeated_acks(image.size(), espota_chunk) + "OK");

    auto e = device.wait_event("update");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["ok"], true);
    EXPECT_EQ((*e)["received"], image.size());
    EXPECT_EQ((*e)["md5"], md5_hex(image));
    EXPECT_EQ((*e)["error"], nullptr);
    EXPECT_EQ((*e)["file"], out);
    EXPECT_EQ(device.wait_exit(ms(5000)), 0);
    EXPECT_EQ(slurp(out), image);
}

TEST(OtaDeviceTransfer, ConnectsBackFromItsOwnAddress) {
    ota_device_process device(device_args("esp32"));
    espota_host host;
    auto s = host.open(device.port(), sample_image(100));
    EXPECT_EQ(s.peer_address(), device.ready()["address"]);
}

// esp8266/pico dial back 100 ms after OK; esp32 on its next loop pass (5 ms).
TEST(OtaDeviceTransfer, ConnectBackDelayFollowsTheKind) {
    for (const std::string kind : {"esp8266", "rp2040", "esp32"}) {
        ota_device_process device(device_args(kind));
        espota_host host;
        const bytes image = sample_image(100);
        EXPECT_EQ(host.invite(device.port(), image), "OK");
        const auto ok = clock_type::now();
        EXPECT_TRUE(host.server.accept(accept_wait)) << kind;
        if (kind == "esp32")
            EXPECT_LT(seconds_since(ok), 0.08) << kind;
        else
            EXPECT_GE(seconds_since(ok), 0.095) << kind;
    }
}

TEST(OtaDeviceTransfer, Esp8266WaitsOneSecondBeforeOkAndOneBeforeClosing) {
    const bytes image = read_fixture_image("helloworld-esp8266.bin");
    for (const std::string kind : {"esp8266", "rp2040"}) {
        ota_device_process device(device_args(kind));
        espota_host host;
        auto s = host.open(device.port(), image);
        ASSERT_TRUE(s.send(image));
        EXPECT_EQ(s.receive(ms(3000)).bytes, std::to_string(image.size())) << kind;
        const auto acked = clock_type::now();
        EXPECT_EQ(s.receive(ms(3000)).bytes, "OK") << kind;
        EXPECT_GE(seconds_since(acked), 0.9) << kind;
        EXPECT_LE(seconds_since(acked), 1.6) << kind;
        const auto ok = clock_type::now();
        EXPECT_TRUE(s.receive_until_closed(ms(3000)).ended) << kind;
        EXPECT_GE(seconds_since(ok), 0.9) << kind;
    }
}

TEST(OtaDeviceTransfer, Esp32SaysOkAtOnceAndCloses) {
    const bytes image = read_fixture_image("helloworld-esp32.bin");
    ota_device_process device(device_args("esp32"));
    espota_host host;
    auto s = host.open(device.port(), image);
    ASSERT_TRUE(s.send(image));
    const auto sent = clock_type::now();
    auto all = s.receive_until_closed(ms(3000));
    EXPECT_TRUE(all.ended);
    EXPECT_EQ(all.bytes, "128OK");
    EXPECT_LT(seconds_since(sent), 0.5);
}

// esp8266/pico take everything available into the sector buffer and ack the total.
TEST(OtaDeviceTransfer, Esp8266AcksEverythingItDrainedInOneCount) {
    const bytes image = sample_image(3 * espota_chunk + 100);
    ota_device_process device(device_args("esp8266", {"--time-scale", "0.1"}));
    espota_host host;
    auto s = host.open(device.port(), image);
    ASSERT_TRUE(s.send(image));
    EXPECT_EQ(s.receive_until_closed(ms(5000)).bytes, "4480OK");
}

// esp32 reads at most 1460 bytes per pass and acks each read: counts arrive glued.
TEST(OtaDeviceTransfer, Esp32AcksEachReadOfAtMost1460) {
    const bytes image = sample_image(3 * espota_chunk + 100);
    ota_device_process device(device_args("esp32"));
    espota_host host;
    auto s = host.open(device.port(), image);
    ASSERT_TRUE(s.send(image));
    EXPECT_EQ(s.receive_until_closed(ms(5000)).bytes, "146014601460100OK");
}

// esp32: 1 s without data → the last count again, three times, then abort and close, silently.
TEST(OtaDeviceTransfer, Esp32RepeatsTheLastCountThreeTimesThenGivesUp) {
    const bytes image = sample_image(5000);
    ota_device_process device(device_args("esp32-legacy"));
    espota_host host;
    auto s = host.open(device.port(), image);
    ASSERT_TRUE(s.send(byte_view(image).first(espota_chunk)));
    EXPECT_EQ(s.receive(ms(2000)).bytes, "1460");
    const auto start = clock_type::now();
    for (int retry = 1; retry <= 3; ++retry) {
        EXPECT_EQ(s.receive(ms(2000)).bytes, "1460") << "retry " << retry;
        EXPECT_NEAR(seconds_since(start), retry * 1.0, 0.35) << "retry " << retry;
    }
    auto end = s.receive_until_closed(ms(3000));
    EXPECT_TRUE(end.ended);
    EXPECT_EQ(end.bytes, "");
    EXPECT_NEAR(seconds_since(start), 4.0, 0.4);
    auto e = device.wait_event("update");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["stage"], "transfer");
    EXPECT_NE((*e)["error"].get<std::string>().find("receive timeout"), std::string::npos);
    EXPECT_EQ((*e)["received"], espota_chunk);
}

TEST(OtaDeviceTransfer, Esp32GivesUpAfterOneSecondWhenNothingArrives) {
    ota_device_process device(device_args("esp32"));
    espota_host host;
    auto s = host.open(device.port(), sample_image(5000));
    const auto start = clock_type::now();
    auto end = s.receive_until_closed(ms(3000));
    EXPECT_TRUE(end.ended);
    EXPECT_EQ(end.bytes, "");
    EXPECT_NEAR(seconds_since(start), 1.0, 0.35);
}

// esp8266/pico have no effective receive timeout: only a closed connection ends the update.
TEST(OtaDeviceTransfer, Esp8266WaitsForAHostThatStopsSendingUntilItCloses) {
    const bytes image = sample_image(10000);
    ota_device_process device(device_args("esp8266"));
    espota_host host;
    auto s = host.open(device.port(), image);
    EXPECT_EQ(stop_and_wait(s, byte_view(image).first(3 * espota_chunk)), "146014601460");
    EXPECT_TRUE(s.quiet_for(ms(2500)));
    s.shutdown_send();
    // A premature end leaves the Updater's error number at 0, and that is what it prints.
    auto end = s.receive_until_closed(ms(3000));
    EXPECT_TRUE(end.ended);
    EXPECT_EQ(end.bytes, "ERROR[0]: No Error\n");
    auto e = device.wait_event("update");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["error"], "ERROR[0]: No Error\n");
    EXPECT_EQ((*e)["received"], 3 * espota_chunk);
}

// Until a first sector (4096 bytes) reached flash, the Updater counts no progress at all.
TEST(OtaDeviceTransfer, Esp8266ClosedBeforeTheFirstSectorSaysNoData) {
    const bytes image = sample_image(10000);
    ota_device_process device(device_args("esp8266"));
    espota_host host;
    auto s = host.open(device.port(), image);
    EXPECT_EQ(stop_and_wait(s, byte_view(image).first(espota_chunk)), "1460");
    s.shutdown_send();
    EXPECT_EQ(s.receive_until_closed(ms(3000)).bytes, "ERROR[13]: No data supplied\n");
}

// esp32 notices the host's close only after a full receive wait, repeats its count, then aborts.
TEST(OtaDeviceTransfer, Esp32AbortsWhenTheHostClosesEarly) {
    const bytes image = sample_image(5000);
    ota_device_process device(device_args("esp32"));
    espota_host host;
    auto s = host.open(device.port(), image);
    ASSERT_TRUE(s.send(byte_view(image).first(espota_chunk)));
    EXPECT_EQ(s.receive(ms(2000)).bytes, "1460");
    s.shutdown_send();
    auto end = s.receive_until_closed(ms(4000));
    EXPECT_TRUE(end.ended);
    EXPECT_EQ(end.bytes, "1460Aborted\r\n");
}

TEST_P(OtaDeviceTransferEveryKind, Md5MismatchIsReportedInTheKindsWords) {
    const bytes image = sample_image(3000);
    const std::string wrong(32, '0');
    ota_device_process device(device_args(GetParam(), {"--time-scale", "0.1"}));
    espota_host host;
    auto s = host.open(device.port(), image, 0, wrong);
    std::string answers = stop_and_wait(s, image);
    auto end = s.receive_until_closed(ms(5000));
    EXPECT_TRUE(end.ended);
    const std::string got = answers + end.bytes;
    const std::string acks = repeated_acks(image.size(), espota_chunk);
    const std::string text = got.substr(std::min(got.size(), acks.size()));
    EXPECT_EQ(got.substr(0, acks.size()), acks);
    const std::string real = md5_hex(image);
    if (GetParam() == "esp8266")
        EXPECT_EQ(text, "ERROR[7]: MD5 verification failed: expected: " + wrong + ", calculated: " + real + "\n");
    else if (GetParam() == "rp2040")
        EXPECT_EQ(text, "ERROR[7]: MD5 Failed: expected:" + wrong + " calculated:" + real + "\r\n");
    else
        EXPECT_EQ(text, "MD5 Check Failed\r\n");
    auto e = device.wait_event("update");
    ASSERT_TRUE(e);
    EXPECT_EQ((*e)["ok"], false);
    EXPECT_EQ((*e)["stage"], "end");
    EXPECT_EQ((*e)["error"], text);
}

// esp32 checks the magic byte when the first 4096-byte sector goes to flash: the read that
// crosses it gets no ack, and the aborted Updater ends the loop with its message.
TEST(OtaDeviceTransfer, Esp32RejectsAWrongMagicByteAtTheFirstSector) {
    const bytes image = sample_image(5000, 0x00);
    ota_device_process device(device_args("esp32"));
    espota_host host;
    auto s = host.open(device.port(), image);
    EXPECT_EQ(stop_and_wait(s, byte_view(image).first(2 * espota_chunk)), "14601460");
    ASSERT_TRUE(s.send(byte_view(image).subspan(2 * espota_chunk, espota_chunk)));
    auto end = s.receive_until_closed(ms(3000));
    EXPECT_TRUE(end.ended);
    EXPECT_EQ(end.bytes, "Wrong Magic Byte\r\n");
}

TEST(OtaDeviceTransfer, Esp8266ChecksTheMagicByteAtTheEnd) {
    const bytes image = sample_image(3000, 0x00);
    ota_device_process device(device_args("esp8266", {"--time-scale", "0.1"}));
    espota_host host;
    auto s = host.open(device.port(), image);
    const std::string answers = stop_and_wait(s, image);
    EXPECT_EQ(answers + s.receive_until_closed(ms(3000)).bytes, "14601460" "80" "ERROR[10]: Magic byte is not 0xE9\n");
}

TEST(OtaDeviceTransfer, FilesystemImagesNeedNoMagicByte) {
    const bytes image = sample_image(3000, 0x00);
    for (const std::string kind : {"esp8266", "esp32"}) {
        ota_device_process device(device_args(kind, {"--time-scale", "0.1"}));
        espota_host host;
        auto s = host.open(device.port(), image, 100);
        const std::string answers = stop_and_wait(s, image);
        EXPECT_EQ(answers + s.receive_until_closed(ms(3000)).bytes, "14601460" "80OK") << kind;
    }
}

TEST(OtaDeviceTransfer, SlowFlashHoldsTheReadsBack) {
    const bytes image = sample_image(64 * 1024);
    for (const std::string kind : {"esp8266", "esp32"}) {
        ota_device_process device(device_args(kind, {"--flash-rate", "200000", "--time-scale", "0.1"}));
        espota_host host;
        auto s = host.open(device.port(), image);
        const auto start = clock_type::now();
        ASSERT_TRUE(s.send(image));
        auto all = s.receive_until_closed(ms(10000));
        EXPECT_TRUE(all.ended);
        EXPECT_EQ(all.bytes.substr(all.bytes.size() - 2), "OK") << kind;
        // 65536 bytes at 200000 bytes/s take 0.33 s of flashing.
        EXPECT_GE(seconds_since(start), 0.32) << kind;
    }
}

TEST(OtaDeviceTransfer, AckLatencyDelaysAcksButNotReads) {
    const bytes image = sample_image(5000);
    ota_device_process device(device_args("esp32", {"--ack-latency", "400"}));
    espota_host host;
    auto s = host.open(device.port(), image);
    const auto start = clock_type::now();
    ASSERT_TRUE(s.send(byte_view(image).first(3 * espota_chunk)));
    EXPECT_TRUE(s.quiet_for(ms(300)));
    // Three reads at once, three acks 400 ms later; a device that waited for each ack before reading
    // on would need 1.2 s.
    auto acks = s.receive_at_least(12, ms(2000));
    EXPECT_EQ(acks.bytes, "146014601460");
    EXPECT_GE(seconds_since(start), 0.38);
    EXPECT_LT(seconds_since(start), 0.75);
}

}  // namespace
