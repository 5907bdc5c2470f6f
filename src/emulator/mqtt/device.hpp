#pragma once
// One emulated MQTT OTA device (a Dragino-style NB-IoT node, ../shared/protocols/mqtt-ota.md §1):
// it connects with its own client id, asks for firmware by title and version, fetches the image in
// chunks over a link of limited speed, checks each chunk's CRC-32 and retries it up to three
// times, retries the whole update up to three times, and reports its code on its state topic.

#include "emulator/mqtt/events.hpp"
#include "emulator/mqtt/settings.hpp"

#include <otaflash/log.hpp>
#include <otaflash/net/event_loop.hpp>
#include <otaflash/net/mqtt_client.hpp>
#include <otaflash/proto/mqtt_ota/messages.hpp>
#include <otaflash/proto/mqtt_ota/topics.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace otaflash::emulator::mqtt {

class device {
public:
    // `settings.id` and `settings.out` must already have %d replaced.
    device(net::event_loop& loop, device_settings settings, const broker_settings& broker, event_sink& events,
           log_sink& log);
    ~device();

    result<void> start();
    void stop();
    // The device reported a result (or died on purpose): it will do nothing more.
    bool finished() const noexcept { return finished_; }
    const std::string& id() const noexcept { return settings_.id; }

private:
    enum class stage { idle, info, chunks, done };

    net::mqtt_client_options client_options() const;
    void connect();
    void on_connected();
    void on_message(std::string_view topic, byte_view payload);
    void begin_update();
    void ask_info();
    void on_info(byte_view payload);
    void ask_chunk();
    void on_chunk(std::uint64_t index, bytes payload);
    void retry_chunk(std::string reason);
    void arm_timeout();
    void attempt_failed(int code, std::string message);
    void finish(int code, std::string message);
    void fault_stop(const std::string& fault);
    std::chrono::milliseconds link_time(std::size_t bytes) const;
    std::string request_id() const;

    net::event_loop& loop_;
    device_settings settings_;
    const broker_settings& broker_;
    event_sink& events_;
    log_sink& log_;
    const proto::mqtt_ota::topic_profile& profile_;
    std::unique_ptr<net::mqtt_client> client_;
    int pending_subscriptions_ = 0;
    bool connected_before_ = false;
    bool triggered_ = false;
    bool finished_ = false;
    bool silent_ = false;
    stage stage_ = stage::idle;

    int attempt_ = 0;
    std::uint64_t request_counter_ = 0;
    proto::mqtt_ota::firmware_info info_;
    bytes image_;
    std::uint64_t chunk_ = 0;
    int chunk_tries_ = 0;
    std::uint64_t chunks_ok_ = 0;
    std::uint64_t retries_ = 0;
    bool reconnected_ = false;
    int info_tries_ = 0;
    net::event_loop::timer_id timeout_ = 0;
    net::event_loop::timer_id delivery_ = 0;
    std::chrono::steady_clock::time_point started_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace otaflash::emulator::mqtt
