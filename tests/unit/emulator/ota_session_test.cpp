// One update as scripted events: the actions each kind takes, with time as values, not waits.

#include "emulator/ota/session.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::emulator::ota;
using namespace std::chrono_literals;

namespace {

bytes image_of(std::size_t size) {
    bytes b(size, 0x33);
    b[0] = 0xE9;
    return b;
}

accepted_update request_for(const bytes& image, bool ok_sent) {
    accepted_update u;
    u.request.command = 0;
    u.request.host_port = 3000;
    u.request.size = static_cast<std::int32_t>(image.size());
    u.request.md5 = to_hex(md5(image));
    u.reply_to = peer{"127.0.0.1", 40000};
    u.connect_address = "127.0.0.1";
    u.ok_sent = ok_sent;
    return u;
}

update_session make(device_kind kind, const bytes& image, fault_set faults = {}, std::uint64_t rate = 0,
                    double scale = 1.0) {
    session_config c;
    c.kind = &traits(kind);
    c.faults = std::move(faults);
    c.flash_rate = rate;
    c.time_scale = scale;
    return update_session(c, request_for(image, traits(kind).ok_before_begin));
}

template <class T>
T expect(const session_action& a) {
    EXPECT_TRUE(std::holds_alternative<T>(a)) << "action index " << a.index();
    return std::holds_alternative<T>(a) ? std::get<T>(a) : T{};
}

// Start through the connect-back, answering "connected".
session_action connected(update_session& s, device_kind kind) {
    auto a = s.start();
    if (!traits(kind).ok_before_begin) {
        EXPECT_EQ(expect<act::send_datagram>(a).payload, "OK");
        EXPECT_EQ(expect<act::pause>(s.resume()).duration, 100ms);
        a = s.resume();
    }
    expect<act::connect>(a);
    return s.on_connect(true, "");
}

TEST(OtaSession, Esp8266DrainsAcksTheTotalAndConfirmsSlowly) {
    const bytes image = image_of(5000);
    auto s = make(device_kind::esp8266, image);
    expect<act::query_link>(connected(s, device_kind::esp8266));
    EXPECT_EQ(expect<act::wait_for_data>(s.on_link(true)).timeout, 1000ms);
    EXPECT_EQ(expect<act::read_available>(s.on_wait(true)).max, 4096u);
    // What is there is taken in sector-sized pieces, 1 ms apart, until nothing more is there.
    EXPECT_EQ(expect<act::pause>(s.on_read(byte_view(image).first(3000))).duration, 1ms);
    EXPECT_EQ(expect<act::read_available>(s.resume()).max, 1096u);
    EXPECT_EQ(expect<act::pause>(s.on_read(byte_view(image).subspan(3000, 1096))).duration, 1ms);
    EXPECT_EQ(expect<act::read_available>(s.resume()).max, 904u);
    EXPECT_EQ(expect<act::send_bytes>(s.on_read({})).bytes, "4096");
    expect<act::query_link>(s.resume());
    expect<act::wait_for_data>(s.on_link(true));
    expect<act::read_available>(s.on_wait(true));
    EXPECT_EQ(expect<act::send_bytes>(s.on_read(byte_view(image).subspan(4096))).bytes, "904");
    expect<act::query_link>(s.resume());
    // Update.end(), then: flush, 1 s, OK, flush, 1 s, close.
    expect<act::flush_sent>(s.on_link(true));
    EXPECT_EQ(expect<act::pause>(s.resume()).duration, 1000ms);
    EXPECT_EQ(expect<act::send_bytes>(s.resume()).bytes, "OK");
    expect<act::flush_sent>(s.resume());
    EXPECT_EQ(expect<act::pause>(s.resume()).duration, 1000ms);
    EXPECT_FALSE(expect<act::close_connection>(s.resume()).reset);
    auto done = expect<act::finished>(s.resume());
    EXPECT_TRUE(done.event.ok);
    EXPECT_EQ(done.image, image);
    EXPECT_TRUE(s.done());
}

TEST(OtaSession, Esp8266HasNoReceiveTimeout) {
    const bytes image = image_of(5000);
    auto s = make(device_kind::esp8266, image);
    connected(s, device_kind::esp8266);
    for (int pass = 0; pass < 50; ++pass) {
        expect<act::wait_for_data>(s.on_link(true));
        expect<act::read_available>(s.on_wait(false));
        expect<act::query_link>(s.on_read({}));  // nothing drained: no ack
    }
    // Only a closed connection ends it, with the Updater's premature-end text.
    EXPECT_EQ(expect<act::send_bytes>(s.on_link(false)).bytes, "ERROR[13]: No data supplied\n");
}

TEST(OtaSession, Esp32RepeatsTheLastCountThreeTimesThenAborts) {
    const bytes image = image_of(5000);
    auto s = make(device_kind::esp32, image);
    expect<act::query_link>(connected(s, device_kind::esp32));
    expect<act::wait_for_data>(s.on_link(true));
    EXPECT_EQ(expect<act::read_available>(s.on_wait(true)).max, 1460u);
    EXPECT_EQ(expect<act::send_bytes>(s.on_read(byte_view(image).first(1000))).bytes, "1000");
    expect<act::query_link>(s.resume());
    for (int retry = 0; retry < 3; ++retry) {
        EXPECT_EQ(expect<act::wait_for_data>(s.on_link(true)).timeout, 1000ms);
        EXPECT_EQ(expect<act::send_bytes>(s.on_wait(false)).bytes, "1000");
        expect<act::query_link>(s.resume());
    }
    expect<act::wait_for_data>(s.on_link(true));
    expect<act::flush_sent>(s.on_wait(false));
    EXPECT_FALSE(expect<act::close_connection>(s.resume()).reset);
    auto done = expect<act::finished>(s.resume());
    EXPECT_FALSE(done.event.ok);
    EXPECT_EQ(done.event.received, 1000u);
    EXPECT_NE(done.event.error->find("receive timeout"), std::string::npos);
}

TEST(OtaSession, Esp32WithoutAnyDataGivesUpAtTheFirstTimeout) {
    auto s = make(device_kind::esp32, image_of(5000));
    connected(s, device_kind::esp32);
    expect<act::wait_for_data>(s.on_link(true));
    expect<act::flush_sent>(s.on_wait(false));
}

TEST(OtaSession, TimeScaleShortensTheFirmwaresDelays) {
    auto s = make(device_kind::rp2040, image_of(100), {}, 0, 0.1);
    s.start();
    EXPECT_EQ(expect<act::pause>(s.resume()).duration, 10ms);
    EXPECT_EQ(expect<act::connect>(s.resume()).timeout, 500ms);
}

TEST(OtaSession, FlashRatePausesReadsForTheWriteTime) {
    const bytes image = image_of(8192);
    auto s = make(device_kind::esp32, image, {}, 4096);
    connected(s, device_kind::esp32);
    std::size_t at = 0;
    micros busy{0};
    while (at < image.size()) {
        expect<act::wait_for_data>(s.on_link(true));
        const auto n = expect<act::read_available>(s.on_wait(true)).max;
        auto a = s.on_read(byte_view(image).subspan(at, std::min(n, image.size() - at)));
        at += std::min(n, image.size() - at);
        if (auto* p = std::get_if<act::pause>(&a)) {
            busy += p->duration;
            a = s.resume();
        }
        expect<act::send_bytes>(a);
        expect<act::query_link>(s.resume());
    }
    EXPECT_EQ(busy, 2s);  // 8192 bytes at 4096 bytes/s
}

TEST(OtaSession, DropAfterResetsAndStallAfterHolds) {
    const bytes image = image_of(5000);
    fault_set drop;
    drop.drop_after = 1000;
    auto d = make(device_kind::esp32, image, drop);
    connected(d, device_kind::esp32);
    expect<act::wait_for_data>(d.on_link(true));
    EXPECT_EQ(expect<act::read_available>(d.on_wait(true)).max, 1000u);
    EXPECT_TRUE(expect<act::close_connection>(d.on_read(byte_view(image).first(1000))).reset);
    EXPECT_FALSE(expect<act::finished>(d.resume()).event.ok);

    fault_set stall;
    stall.stall_after = 0;
    auto h = make(device_kind::esp8266, image, stall);
    expect<act::hold_connection>(connected(h, device_kind::esp8266));
    EXPECT_FALSE(expect<act::close_connection>(h.on_hold_ended()).reset);
    EXPECT_EQ(expect<act::finished>(h.resume()).event.received, 0u);
}

TEST(OtaSession, BeginRefusalPerKind) {
    fault_set no_space;
    no_space.no_space = true;
    auto e8266 = make(device_kind::esp8266, image_of(100), no_space);
    EXPECT_EQ(expect<act::send_datagram>(e8266.start()).payload, "ERR: ERROR[4]: Not Enough Space\n");
    EXPECT_EQ(expect<act::pause>(e8266.resume()).duration, 100ms);
    EXPECT_EQ(expect<act::finished>(e8266.resume()).event.stage, "begin");

    auto e32 = make(device_kind::esp32, image_of(100), no_space);
    auto done = expect<act::finished>(e32.start());  // nothing sent: OK went out already
    EXPECT_EQ(done.event.stage, "begin");
}

TEST(OtaSession, FailedConnectEndsTheAttempt) {
    auto s = make(device_kind::esp32, image_of(100));
    expect<act::connect>(s.start());
    auto done = expect<act::finished>(s.on_connect(false, "Connection refused"));
    EXPECT_EQ(done.event.stage, "connect");
    EXPECT_NE(done.event.error->find("Connection refused"), std::string::npos);
}

TEST(OtaSession, BadMd5CorruptsTheLastByte) {
    const bytes image = image_of(100);
    fault_set bad;
    bad.bad_md5 = true;
    auto s = make(device_kind::esp32, image, bad);
    connected(s, device_kind::esp32);
    expect<act::wait_for_data>(s.on_link(true));
    expect<act::read_available>(s.on_wait(true));
    expect<act::send_bytes>(s.on_read(image));
    expect<act::query_link>(s.resume());
    EXPECT_EQ(expect<act::send_bytes>(s.on_link(true)).bytes, "MD5 Check Failed\r\n");
}

}  // namespace
