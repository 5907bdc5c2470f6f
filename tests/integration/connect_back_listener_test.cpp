// The connect-back listener over real loopback sockets when accepting fails: out of file
// descriptors, the pending connection must wait without the loop spinning, and be delivered once
// descriptors are free again.

#include "net/loop_detail.hpp"

#include <otaflash/net/connect_back_listener.hpp>
#include <otaflash/net/event_loop.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

using namespace otaflash;
using namespace std::chrono_literals;

namespace {

class counting_log final : public log_sink {
public:
    bool enabled(log_level) const override { return true; }
    void write(log_level level, std::string_view message) override {
        if (level == log_level::warn && message.find("accepting a connection failed") != std::string_view::npos) ++failed_accepts;
    }
    int failed_accepts = 0;
};

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

TEST(ConnectBackListener, OutOfDescriptorsWaitsWithoutSpinningThenDelivers) {
#if defined(__SANITIZE_ADDRESS__)
    // The sanitizer runtime opens pipes of its own to probe memory; with no descriptor free it
    // reports false errors. The plain build (CI) runs this test.
    GTEST_SKIP() << "needs a process without sanitizer runtime (OTAFLASH_SANITIZE=OFF)";
#endif
    net::event_loop loop;
    counting_log log;
    auto listener = net::connect_back_listener::open(loop, "127.0.0.1", 0, log);
    ASSERT_TRUE(listener) << listener.error().message;
    bool delivered = false;
    net::event_loop::timer_id bound{};
    (*listener)->native().expect(boost::asio::ip::make_address("127.0.0.1"), [&](boost::asio::ip::tcp::socket) {
        delivered = true;
        (*listener)->close();
        loop.cancel_timer(bound);
    });

    const int client = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(client, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons((*listener)->port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    // No descriptor left for accept(): the soft limit at the lowest free descriptor number.
    rlimit saved{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
    const int lowest_free = ::dup(0);
    ASSERT_GE(lowest_free, 0);
    ::close(lowest_free);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &tight), 0);
    ASSERT_EQ(::connect(client, reinterpret_cast<const sockaddr*>(&to), sizeof to), 0);  // queued by the kernel

    const double cpu_before = cpu_seconds();
    const auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration restored_at{};
    loop.call_after(400ms, [&] {
        setrlimit(RLIMIT_NOFILE, &saved);
        restored_at = std::chrono::steady_clock::now() - started;
    });
    bound = loop.call_after(5000ms, [&] { (*listener)->close(); });  // never reached when it works
    loop.run();
    const double cpu_used = cpu_seconds() - cpu_before;
    setrlimit(RLIMIT_NOFILE, &saved);
    ::close(client);

    EXPECT_TRUE(delivered);
    EXPECT_GE(log.failed_accepts, 1);
    EXPECT_LE(log.failed_accepts, 10);  // one try per 100 ms, not a busy loop
    EXPECT_LT(cpu_used, 0.15) << "the loop spun while accept() kept failing";
    EXPECT_GT(restored_at, 0ns);
}
