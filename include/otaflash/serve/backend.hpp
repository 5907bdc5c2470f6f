#pragma once
// What `otaflash serve` runs: one event loop, one release catalog, one or more transports
// (HTTP/HTTPS in src/server/http, MQTT in src/server/mqtt) behind this interface. A backend
// reports everything devices do as release::device_event through the sink; the CLI renders the
// events, feeds the --expect tracker and decides when the run ends.
//
// Lifecycle: start() binds and begins serving (failures such as a port in use or a missing
// certificate come back here, before anything listens). A failure that ends serving later (a
// broker that refuses a reconnect) goes to the failure sink, once; the CLI then stops every
// backend and exits with it. stop() stops accepting, lets transfers in flight finish within
// `grace`, cuts the rest (reported as failed, never delivered), and calls `done` on the loop once
// the backend holds no more work on it. All of these run on the loop's thread.

#include <otaflash/release/catalog.hpp>
#include <otaflash/release/device_event.hpp>
#include <otaflash/result.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace otaflash::net {
class event_loop;
}

namespace otaflash::serve {

using event_sink = std::function<void(const release::device_event&)>;
using failure_sink = std::function<void(const failure&)>;

class backend {
public:
    virtual ~backend() = default;

    // The URLs served ("http://127.0.0.1:40123/", "mqtt://127.0.0.1:1883"), with the real port
    // when 0 was asked for. `catalog` outlives the backend.
    virtual result<std::vector<std::string>> start(net::event_loop& loop, const release::catalog& catalog,
                                                   event_sink sink, failure_sink failed) = 0;
    virtual void stop(std::chrono::milliseconds grace, std::function<void()> done) = 0;
};

}  // namespace otaflash::serve
