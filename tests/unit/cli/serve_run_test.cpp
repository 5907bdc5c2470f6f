// The serve skeleton with a scripted transport: what ends a run, the JSON Lines it writes, and
// the exit codes (README "Exit status of serve").

#include "cli/serve_run.hpp"

#include <otaflash/net/event_loop.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>

using namespace otaflash;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Emits its events one per 10 ms after start; stop() reports done at once.
class scripted_backend final : public serve::backend {
public:
    explicit scripted_backend(std::vector<release::device_event> events, std::optional<failure> start_error = {},
                              std::function<void()> after = {})
        : events_(std::move(events)), start_error_(std::move(start_error)), after_(std::move(after)) {}

    result<std::vector<std::string>> start(net::event_loop& loop, const release::catalog&, serve::event_sink sink) override {
        if (start_error_) return *start_error_;
        loop_ = &loop;
        auto delay = 10ms;
        for (const auto& e : events_) {
            timers_.push_back(loop.call_after(delay, [sink, e] { sink(e); }));
            delay += 10ms;
        }
        if (after_) timers_.push_back(loop.call_after(delay, after_));
        return std::vector<std::string>{"http://127.0.0.1:1/"};
    }
    void stop(std::chrono::milliseconds, std::function<void()> done) override {
        ++stops;
        for (auto id : timers_) loop_->cancel_timer(id);
        loop_->call_after(0ms, std::move(done));
    }
    int stops = 0;

private:
    std::vector<release::device_event> events_;
    std::optional<failure> start_error_;
    std::function<void()> after_;
    net::event_loop* loop_ = nullptr;
    std::vector<net::event_loop::timer_id> timers_;
};

release::device_event event(std::string device, release::event_kind kind) {
    release::device_event e;
    e.device = std::move(device);
    e.transport = "http";
    e.kind = kind;
    e.request = "GET /firmware.bin";
    e.decision = "200 firmware";
    e.bytes = e.total = 1024;
    return e;
}

struct run_output {
    int code;
    std::vector<json> lines;
};

run_output run(std::vector<std::unique_ptr<serve::backend>> backends, std::vector<std::string> expect,
               std::optional<std::chrono::milliseconds> deadline) {
    release::catalog catalog({}, {});
    cli::serve_settings s;
    s.expect = std::move(expect);
    s.deadline = deadline;
    s.json = true;
    s.out = std::tmpfile();
    s.err = std::tmpfile();
    int code = cli::run_serve(catalog, std::move(backends), s);
    std::rewind(s.out);
    run_output out{code, {}};
    char buf[65536];
    while (std::fgets(buf, sizeof buf, s.out)) out.lines.push_back(json::parse(buf));
    std::fclose(s.out);
    std::fclose(s.err);
    return out;
}

std::vector<std::unique_ptr<serve::backend>> one(std::unique_ptr<serve::backend> b) {
    std::vector<std::unique_ptr<serve::backend>> v;
    v.push_back(std::move(b));
    return v;
}

}  // namespace

TEST(ServeRun, ExitsZeroOnceEveryExpectedDeviceHasTheRelease) {
    auto out = run(one(std::make_unique<scripted_backend>(std::vector{
                       event("AA:BB:CC:DD:EE:01", release::event_kind::asked),
                       event("AA:BB:CC:DD:EE:01", release::event_kind::delivered),
                       event("AA:BB:CC:DD:EE:02", release::event_kind::already_current)})),
                   {"aa:bb:cc:dd:ee:01", "AA:BB:CC:DD:EE:02"}, 60s);
    EXPECT_EQ(out.code, 0);
    ASSERT_GE(out.lines.size(), 5u);
    EXPECT_EQ(out.lines.front(), json({{"event", "listening"}, {"urls", {"http://127.0.0.1:1/"}}}));
    EXPECT_EQ(out.lines[1]["kind"], "asked");
    EXPECT_EQ(out.lines[2]["kind"], "delivered");
    const auto& summary = out.lines.back();
    EXPECT_EQ(summary["event"], "summary");
    EXPECT_EQ(summary["ok"], true);
    EXPECT_EQ(summary["delivered"], 1);
    EXPECT_EQ(summary["devices"].size(), 2u);
    EXPECT_EQ(summary["devices"][0]["state"], "delivered");
    EXPECT_EQ(summary["devices"][1]["state"], "already_current");
}

TEST(ServeRun, DeadlineWithDevicesMissingExitsTen) {
    auto out = run(one(std::make_unique<scripted_backend>(std::vector{
                       event("AA:BB:CC:DD:EE:01", release::event_kind::delivered)})),
                   {"AA:BB:CC:DD:EE:01", "AA:BB:CC:DD:EE:02"}, 300ms);
    EXPECT_EQ(out.code, 10);
    const auto& summary = out.lines.back();
    EXPECT_EQ(summary["error"]["code"], "expected_devices_missing");
    EXPECT_EQ(summary["devices"][1]["state"], "waiting");
}

TEST(ServeRun, DeadlineWithAFailedDeviceExitsTwelve) {
    auto failed = event("AA:BB:CC:DD:EE:01", release::event_kind::failed);
    failed.code = errc::connection_lost;
    failed.decision = "incomplete: 512 of 1024 bytes";
    auto out = run(one(std::make_unique<scripted_backend>(std::vector{failed})), {"AA:BB:CC:DD:EE:01"}, 300ms);
    EXPECT_EQ(out.code, 12);
    EXPECT_EQ(out.lines.back()["error"]["code"], "some_targets_failed");
    EXPECT_EQ(out.lines.back()["devices"][0]["detail"], "incomplete: 512 of 1024 bytes");
}

TEST(ServeRun, AStartFailureListensNowhere) {
    auto out = run(one(std::make_unique<scripted_backend>(std::vector<release::device_event>{},
                                                          make_failure(errc::port_busy, "127.0.0.1:8070 is in use"))),
                   {}, {});
    EXPECT_EQ(out.code, 9);
    ASSERT_EQ(out.lines.size(), 1u);
    EXPECT_EQ(out.lines[0]["event"], "summary");
    EXPECT_EQ(out.lines[0]["error"]["code"], "port_busy");
}

TEST(ServeRun, SigtermStopsTheBackendsAndExits143) {
    auto backend = std::make_unique<scripted_backend>(std::vector{event("AA:BB:CC:DD:EE:01", release::event_kind::asked)},
                                                      std::nullopt, [] { std::raise(SIGTERM); });
    auto* seen = backend.get();
    std::vector<std::unique_ptr<serve::backend>> list;
    list.push_back(std::move(backend));
    auto out = run(std::move(list), {}, {});
    EXPECT_EQ(out.code, 143);
    EXPECT_EQ(out.lines.back()["error"]["code"], "interrupted_sigterm");
    (void)seen;
}
