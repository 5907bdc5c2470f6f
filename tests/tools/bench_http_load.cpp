// bench_http_load: an HTTP/1.0 load generator for scripts/bench-serve, as pulling devices behave:
// a new connection per request, read until the server closes. One thread, epoll, non-blocking.
//
//   bench_http_load PORT PATH CLIENTS REQUESTS [IDLE] [MIN_BYTES] [HOLD_MS]
//
// CLIENTS requests run at once until REQUESTS have completed; IDLE further connections are
// opened first and held silent throughout (they count against the server, not in the figures),
// HOLD_MS before the requests start (the script reads the server's memory then). A reply
// shorter than MIN_BYTES (head included) is an error. Prints one line of figures.

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct request_state {
    int fd = -1;
    std::size_t sent = 0;
    std::size_t received = 0;
    clock_type::time_point start, first_byte;
    bool got_first = false;
};

int open_nonblocking(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: bench_http_load PORT PATH CLIENTS REQUESTS [IDLE] [MIN_BYTES] [HOLD_MS]\n");
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    const std::string request = std::string("GET ") + argv[2] + " HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\n\r\n";
    const int clients = std::atoi(argv[3]);
    const long total = std::atol(argv[4]);
    const int idle_count = argc > 5 ? std::atoi(argv[5]) : 0;
    const std::size_t min_bytes = argc > 6 ? std::strtoull(argv[6], nullptr, 10) : 1;
    const int hold_ms = argc > 7 ? std::atoi(argv[7]) : 0;

    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);

    std::vector<int> idle;
    for (int i = 0; i < idle_count; ++i) {
        int fd = open_nonblocking(port);
        if (fd < 0) {
            std::fprintf(stderr, "bench_http_load: idle connection %d failed\n", i);
            return 1;
        }
        idle.push_back(fd);
    }
    if (hold_ms > 0) ::usleep(static_cast<useconds_t>(hold_ms) * 1000);

    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<request_state> slots(static_cast<std::size_t>(clients));
    std::vector<double> ttfb_ms;
    ttfb_ms.reserve(static_cast<std::size_t>(total));
    long started = 0, done = 0, errors = 0;
    unsigned long long bytes = 0;
    std::vector<char> buffer(1 << 18);

    auto launch = [&](std::size_t i) {
        auto& s = slots[i];
        s = request_state{};
        s.fd = open_nonblocking(port);
        s.start = clock_type::now();
        if (s.fd < 0) {
            ++errors;
            return false;
        }
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
        ++started;
        return true;
    };
    auto finish = [&](std::size_t i, bool ok) {
        auto& s = slots[i];
        ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
        ::close(s.fd);
        s.fd = -1;
        if (ok && s.received >= min_bytes) {
            ++done;
            bytes += s.received;
            ttfb_ms.push_back(std::chrono::duration<double, std::milli>(s.first_byte - s.start).count());
        } else {
            ++errors;
        }
        if (started < total) launch(i);
    };

    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < slots.size() && started < total; ++i) launch(i);
    std::vector<epoll_event> events(1024);
    while (done + errors < total && errors < 1000) {
        int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 5000);
        if (n <= 0) {
            std::fprintf(stderr, "bench_http_load: no progress for 5 s\n");
            return 1;
        }
        for (int k = 0; k < n; ++k) {
            const auto i = static_cast<std::size_t>(events[static_cast<std::size_t>(k)].data.u64);
            auto& s = slots[i];
            if (s.fd < 0) continue;
            if (s.sent < request.size()) {
                auto w = ::send(s.fd, request.data() + s.sent, request.size() - s.sent, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN) {
                    finish(i, false);
                    continue;
                }
                if (w > 0) s.sent += static_cast<std::size_t>(w);
                if (s.sent == request.size()) {
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.u64 = i;
                    ::epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
                }
                continue;
            }
            while (true) {
                auto r = ::recv(s.fd, buffer.data(), buffer.size(), 0);
                if (r > 0) {
                    if (!s.got_first) s.first_byte = clock_type::now(), s.got_first = true;
                    s.received += static_cast<std::size_t>(r);
                    continue;
                }
                if (r == 0) finish(i, true);
                else if (errno != EAGAIN) finish(i, false);
                break;
            }
        }
    }
    const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::sort(ttfb_ms.begin(), ttfb_ms.end());
    auto pct = [&](double p) {
        return ttfb_ms.empty() ? 0.0 : ttfb_ms[std::min(ttfb_ms.size() - 1, static_cast<std::size_t>(p * ttfb_ms.size()))];
    };
    std::printf("requests=%ld errors=%ld bytes=%llu seconds=%.3f MiBps=%.1f ttfb_p50_ms=%.2f ttfb_p99_ms=%.2f idle=%zu\n", done,
                errors, bytes, seconds, bytes / seconds / 1048576.0, pct(0.50), pct(0.99), idle.size());
    for (int fd : idle) ::close(fd);
    return errors ? 1 : 0;
}
