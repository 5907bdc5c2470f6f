#pragma once
// A private mosquitto broker for tests: an unprivileged process on a free 127.0.0.1 port with a
// generated config (TCP_NODELAY on, persistence off, log file in its temp dir), optionally with a
// password file and ACLs, or TLS with a CA and server certificate made at test time. It can be
// stopped and started again on the same port (a broker restart in the middle of a transfer).

#include "fixtures.hpp"
#include "subprocess.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace otaflash::test {

struct broker_options {
    bool tls = false;
    std::map<std::string, std::string> users;  // user -> password (mosquitto_passwd -b)
    std::string acl;                           // acl_file text; empty: none
    bool anonymous = true;                     // allow_anonymous
};

// The set-up README "Serving over MQTT" recommends: no anonymous logins, otaflash's own user
// (password "server-pw") on every ota/ topic, devices (user "device", password "device-pw") each on
// its own ota/<client id>/ topics.
inline broker_options acl_broker_options() {
    broker_options b;
    b.users = {{"otaflash", "server-pw"}, {"device", "device-pw"}};
    b.anonymous = false;
    b.acl = "user otaflash\ntopic readwrite ota/#\n\npattern readwrite ota/%c/#\n";
    return b;
}

class mosquitto_broker {
public:
    explicit mosquitto_broker(broker_options options = {});
    ~mosquitto_broker();
    mosquitto_broker(const mosquitto_broker&) = delete;
    mosquitto_broker& operator=(const mosquitto_broker&) = delete;

    // Starts it (again) on its port and waits until it accepts connections; throws when it does not.
    void start();
    void stop();
    // The next start() runs with these (a restart after the broker's passwords changed).
    void reconfigure(broker_options options);

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const;             // mqtt://127.0.0.1:PORT or mqtts://...
    std::string ca_file() const;         // TLS only
    std::string log() const;             // the broker's log so far, for failure messages
    const temp_dir& dir() const noexcept { return dir_; }

private:
    void write_config();
    broker_options options_;
    temp_dir dir_;
    std::uint16_t port_ = 0;
    std::unique_ptr<background_process> process_;
};

// A port on 127.0.0.1 nobody listens on right now.
std::uint16_t free_loopback_port();

}  // namespace otaflash::test
