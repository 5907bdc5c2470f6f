#pragma once
// One espota push, driven over real sockets: a UDP socket bound to the address the device should
// dial, a registration with a connect_back_listener, and a timer for the deadlines the core
// decides. Runs on the given event_loop next to any number of other sessions.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/log.hpp>
#include <otaflash/progress.hpp>
#include <otaflash/proto/espota/session.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace otaflash::net {

class event_loop;
class connect_back_listener;

// Asked (at most once) when the device wants a password and none was given; nullopt if nobody
// can answer.
using password_provider = std::function<std::optional<secret>()>;

struct push_endpoints {
    std::string device_address;  // numeric
    std::string local_address;   // numeric, bound for UDP; what the device dials back
};

class push_session {
public:
    // `config.device_address`, `listen_address` and `host_port` are filled in from the endpoints
    // and the listener. `image` must stay alive until the session finished.
    static result<std::unique_ptr<push_session>> create(event_loop& loop, connect_back_listener& listener,
                                                        const push_endpoints& endpoints,
                                                        espota::session_config config, byte_view image,
                                                        progress_sink& progress, log_sink& log,
                                                        password_provider ask_password);
    ~push_session();
    push_session(const push_session&) = delete;
    push_session& operator=(const push_session&) = delete;

    // `on_done` runs once, from the loop, after every socket of the session is closed.
    void start(std::function<void()> on_done);
    // Ends the session with `why` (abortive close) unless it already ended.
    void cancel(failure why);

    bool finished() const noexcept;
    const espota::session_report& report() const noexcept;

private:
    struct impl;
    explicit push_session(std::unique_ptr<impl> i);
    std::unique_ptr<impl> impl_;
};

}  // namespace otaflash::net
