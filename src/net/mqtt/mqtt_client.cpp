// libmosquitto on the Asio loop through its external-loop API: the client's socket is watched by a
// posix::stream_descriptor (read readiness always, write readiness while mosquitto_want_write),
// mosquitto_loop_read/write run when it is ready, and a one-second timer runs mosquitto_loop_misc
// (keepalive pings). The descriptor never owns the socket: libmosquitto opens and closes it, and a
// new one after every reconnect.

#include <otaflash/net/mqtt_client.hpp>

#include "net/loop_detail.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <mosquitto.h>
#include <openssl/ssl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

namespace otaflash::net {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

void init_library() {
    static std::once_flag once;
    std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string mosquitto_error_text(int rc) {
    if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
    return mosquitto_strerror(rc);
}

}  // namespace

struct mqtt_client::impl {
    impl(event_loop& loop, mqtt_client_options o, mqtt_client_events e, log_sink& l)
        : io(loop.native().io), options(std::move(o)), events(std::move(e)), log(l), misc(io), retry(io),
          backoff(options.backoff_first) {}

    ~impl() {
        detach();
        if (m) mosquitto_destroy(m);
    }

    asio::io_context& io;
    mqtt_client_options options;
    mqtt_client_events events;
    log_sink& log;
    mosquitto* m = nullptr;
    std::optional<asio::posix::stream_descriptor> watch;
    int watched_fd = -1;
    std::uint64_t generation = 0;  // of `watch`: handlers of an older descriptor do nothing
    bool reading = false;
    bool writing = false;
    bool is_connected = false;
    bool stopped = false;
    bool was_refused = false;
    asio::steady_timer misc;
    asio::steady_timer retry;
    std::chrono::milliseconds backoff;
    // Handlers hold a weak copy: once the client is gone they find it expired and do nothing.
    std::shared_ptr<int> alive = std::make_shared<int>(0);

    void note(log_level level, const std::string& text) {
        if (log.enabled(level)) log.write(level, "mqtt " + options.client_id + ": " + text);
    }

    void detach() {
        if (watch) {
            boost::system::error_code ignored;
            watch->cancel(ignored);
            (void)watch->release();  // libmosquitto owns and closes the socket
            watch.reset();
        }
        watched_fd = -1;
        reading = writing = false;
        ++generation;
    }

    // Watches whatever socket libmosquitto has now; called after every call into it.
    void sync() {
        const int fd = m ? mosquitto_socket(m) : -1;
        if (fd != watched_fd) {
            detach();
            if (fd >= 0) {
                watch.emplace(io, fd);
                watched_fd = fd;
            }
        }
        if (!watch) return;
        std::weak_ptr<int> token = alive;
        const std::uint64_t gen = generation;
        if (!reading) {
            reading = true;
            watch->async_wait(asio::posix::stream_descriptor::wait_read,
                              [this, token, gen](const boost::system::error_code& ec) {
                                  if (token.expired() || gen != generation) return;
                                  reading = false;
                                  if (ec) return;
                                  on_readable();
                              });
        }
        if (!writing && mosquitto_want_write(m)) {
            writing = true;
            watch->async_wait(asio::posix::stream_descriptor::wait_write,
                              [this, token, gen](const boost::system::error_code& ec) {
                                  if (token.expired() || gen != generation) return;
                                  writing = false;
                                  if (ec) return;
                                  mosquitto_loop_write(m, 1);
                                  sync();
                              });
        }
    }

    // Bytes left to read without waiting: in the socket, or decrypted inside OpenSSL.
    bool more_to_read() const {
        const int fd = mosquitto_socket(m);
        if (fd < 0) return false;
        if (auto* ssl = static_cast<SSL*>(mosquitto_ssl_get(m)); ssl && SSL_pending(ssl) > 0) return true;
        int available = 0;
        return ::ioctl(fd, FIONREAD, &available) == 0 && available > 0;
    }

    void on_readable() {
        // Several packets may wait: read them now rather than one per wake-up (bounded, so one
        // busy connection cannot starve the loop).
        const int fd = watched_fd;
        for (int i = 0; i < 64; ++i) {
            if (mosquitto_loop_read(m, 1) != MOSQ_ERR_SUCCESS) break;
            if (mosquitto_socket(m) != fd || !more_to_read()) break;
        }
        sync();
    }

    void tick() {
        std::weak_ptr<int> token = alive;
        misc.expires_after(1s);
        misc.async_wait([this, token](const boost::system::error_code& ec) {
            if (ec || token.expired()) return;
            if (m && is_connected) {
                mosquitto_loop_misc(m);
                sync();
            }
            if (!stopped) tick();
        });
    }

    void connect(bool first) {
        const int rc = first ? mosquitto_connect_async(m, options.broker.host.c_str(), options.broker.port,
                                                       static_cast<int>(options.keepalive.count()))
                             : mosquitto_reconnect_async(m);
        sync();
        if (rc != MOSQ_ERR_SUCCESS) lost("cannot connect: " + mosquitto_error_text(rc));
    }

    void lost(const std::string& why) {
        is_connected = false;
        if (stopped || was_refused) return;
        note(log_level::debug, why + "; trying again in " + std::to_string(backoff.count()) + " ms");
        if (events.lost) events.lost(why);
        if (stopped) return;  // the handler may have stopped us
        std::weak_ptr<int> token = alive;
        retry.expires_after(backoff);
        retry.async_wait([this, token](const boost::system::error_code& ec) {
            if (ec || token.expired() || stopped) return;
            connect(false);
        });
        backoff = std::min(backoff * 2, options.backoff_max);
    }

    static impl& self(void* user) { return *static_cast<impl*>(user); }

    static void on_connect(mosquitto*, void* user, int rc) {
        impl& s = self(user);
        if (rc != 0) {
            s.was_refused = true;
            s.is_connected = false;
            const std::string why = mosquitto_connack_string(rc);
            s.note(log_level::debug, "broker refused the connection: " + why);
            if (s.events.refused)
                s.events.refused(make_failure(
                    errc::broker_refused,
                    "the broker " + proto::mqtt_ota::to_string(s.options.broker) + " refused the connection: " + why,
                    "check the user (--mqtt-username or user@ in the URL), the password (OTAFLASH_MQTT_PASSWORD or "
                    "--mqtt-password-file) and the broker's ACL for client id '" + s.options.client_id + "'"));
            return;
        }
        s.is_connected = true;
        s.backoff = s.options.backoff_first;
        s.note(log_level::debug, "connected to " + proto::mqtt_ota::to_string(s.options.broker));
        if (s.events.connected) s.events.connected();
    }

    static void on_disconnect(mosquitto*, void* user, int rc) {
        impl& s = self(user);
        s.lost(rc == 0 ? "disconnected" : "connection lost: " + mosquitto_error_text(rc));
    }

    static void on_message(mosquitto*, void* user, const mosquitto_message* msg) {
        impl& s = self(user);
        if (!s.events.message || !msg->topic) return;
        const byte_view payload(static_cast<const std::uint8_t*>(msg->payload),
                                msg->payload ? static_cast<std::size_t>(msg->payloadlen) : 0);
        s.events.message(msg->topic, payload);
    }

    static void on_subscribe(mosquitto*, void* user, int id, int, const int*) {
        impl& s = self(user);
        if (s.events.subscribed) s.events.subscribed(id);
    }

    static void on_log(mosquitto*, void* user, int level, const char* text) {
        impl& s = self(user);
        if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) s.note(log_level::debug, text);
        else s.note(log_level::trace, text);
    }
};

mqtt_client::mqtt_client(event_loop& loop, mqtt_client_options options, mqtt_client_events events, log_sink& log)
    : impl_(std::make_unique<impl>(loop, std::move(options), std::move(events), log)) {}

mqtt_client::~mqtt_client() = default;

result<void> mqtt_client::start() {
    init_library();
    impl& s = *impl_;
    s.m = mosquitto_new(s.options.client_id.c_str(), true, &s);
    if (!s.m)
        return make_failure(errc::usage_error, "cannot create an MQTT client with id '" + s.options.client_id + "'",
                            "give a client id of 1 to 23 letters and digits (--mqtt-client-id)");
    mosquitto_int_option(s.m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    // Nagle's algorithm meeting delayed ACKs costs ~40 ms per hop on a request/reply loop.
    mosquitto_int_option(s.m, MOSQ_OPT_TCP_NODELAY, 1);
    // Every answer is queued at once; the devices pace themselves.
    mosquitto_max_inflight_messages_set(s.m, 0);
    mosquitto_connect_callback_set(s.m, &impl::on_connect);
    mosquitto_disconnect_callback_set(s.m, &impl::on_disconnect);
    mosquitto_message_callback_set(s.m, &impl::on_message);
    mosquitto_subscribe_callback_set(s.m, &impl::on_subscribe);
    mosquitto_log_callback_set(s.m, &impl::on_log);

    const std::string user = !s.options.username.empty() ? s.options.username : s.options.broker.username;
    if (!user.empty() || !s.options.password.empty()) {
        const std::string password(s.options.password.reveal());
        const int rc = mosquitto_username_pw_set(s.m, user.empty() ? nullptr : user.c_str(),
                                                 s.options.password.empty() ? nullptr : password.c_str());
        if (rc != MOSQ_ERR_SUCCESS)
            return make_failure(errc::usage_error, "the MQTT user or password is not usable: " + mosquitto_error_text(rc));
    }
    if (s.options.broker.tls) {
        const bool own_ca = !s.options.ca_file.empty();
        const int rc = mosquitto_tls_set(s.m, own_ca ? s.options.ca_file.c_str() : nullptr,
                                         own_ca ? nullptr : "/etc/ssl/certs", nullptr, nullptr, nullptr);
        if (rc != MOSQ_ERR_SUCCESS)
            return make_failure(errc::file_unreadable,
                                "cannot use the CA " + (own_ca ? "file " + s.options.ca_file : std::string("path /etc/ssl/certs")) +
                                    ": " + mosquitto_error_text(rc),
                                "give a readable PEM file with --mqtt-ca");
        mosquitto_tls_opts_set(s.m, 1, "tlsv1.2", nullptr);
    }
    s.tick();
    s.connect(true);
    return {};
}

void mqtt_client::stop() {
    impl& s = *impl_;
    if (s.stopped) return;
    s.stopped = true;
    s.retry.cancel();
    s.misc.cancel();
    if (s.m && s.is_connected) {
        mosquitto_disconnect(s.m);
        // DISCONNECT is written at once when the socket can take it; a stuck one is simply closed.
    }
    s.is_connected = false;
    s.detach();
}

bool mqtt_client::connected() const noexcept { return impl_->is_connected; }

int mqtt_client::subscribe(std::string_view filter, int qos) {
    impl& s = *impl_;
    const std::string f(filter);
    int id = -1;
    const int rc = mosquitto_subscribe(s.m, &id, f.c_str(), qos);
    s.sync();
    if (rc != MOSQ_ERR_SUCCESS) {
        s.note(log_level::warn, "cannot subscribe to " + f + ": " + mosquitto_error_text(rc));
        return -1;
    }
    return id;
}

bool mqtt_client::publish(std::string_view topic, byte_view payload, int qos, bool retain) {
    impl& s = *impl_;
    if (!s.is_connected) return false;
    const std::string t(topic);
    const int rc = mosquitto_publish(s.m, nullptr, t.c_str(), static_cast<int>(payload.size()),
                                     payload.empty() ? nullptr : payload.data(), qos, retain);
    s.sync();
    if (rc != MOSQ_ERR_SUCCESS) {
        s.note(log_level::debug, "cannot publish to " + t + ": " + mosquitto_error_text(rc));
        return false;
    }
    return true;
}

}  // namespace otaflash::net
