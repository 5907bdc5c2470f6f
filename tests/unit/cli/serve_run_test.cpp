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

    result<std::vector<std::string>> start(net::event_loop& loop, const release::catalog&, serve::event_sink sink,
                                           serve::failure_sink failed) override {
        if (start_error_) return *start_error_;
        loop_ = &loop;
        auto delay = 10ms;
        for (const auto& e : events_) {
            timers_.push_back(loop.call_after(delay, [sink, e] { sink(e); }));
            delay += 10ms;
        }
        if (after_) timers_.push_back(loop.call_after(delay, after_));
        if (fails_later) timers_.push_back(loop.call_after(delay, [failed, f = *fails_later] { failed(f); }));
        return std::vector<std::string>{"http://127.0.0.1:1/"};
    }
    void stop(std::chrono::milliseconds, std::function<void()> done) override {
        ++*stops;
        for (auto id : timers_) loop_->cancel_timer(id);
        loop_->call_after(0ms, std::move(done));
    }
    std::shared_ptr<int> stops = std::make_shared<int>(0);  // outlives the backend, which run_serve destroys
    std::optional<failure> fails_later;  // reported through the failure sink after the events

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
    std::vector<json> lines;  // stdout (JSON Lines, or text lines with json_output = false)
    std::string err;
};

std::string read_all(std::FILE* f) {
    std::string text;
    std::rewind(f);
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    return text;
}

// `stdout_path`: where stdout goes instead of a temporary file (e.g. /dev/full).
run_output run(std::vector<std::unique_ptr<serve::backend>> backends, std::vector<std::string> expect,
               std::optional<std::chrono::milliseconds> deadline, bool json_output = true,
               const char* stdout_path = nullptr) {
    release::catalog catalog({}, {});
    cli::serve_settings s;
    s.expect = std::move(expect);
    s.deadline = deadline;
    std::FILE* out = stdout_path ? std::fopen(stdout_path, "w") : std::tmpfile();
    std::FILE* err = std::tmpfile();
    cli::reporter report(json_output ? cli::output_format::json : cli::output_format::text, out, err);
    run_output result{cli::run_serve(catalog, std::move(backends), s, report), {}, read_all(err)};
    if (!stdout_path) {
        const std::string text = read_all(out);
        for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
            result.lines.push_back(json_output ? json::parse(text.substr(at, nl - at)) : json(text.substr(at, nl - at)));
    }
    std::fclose(out);
    std::fclose(err);
    return result;
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

// A run whose lines never reached stdout (a full disk) is no success, in both output modes.
TEST(ServeRun, AStdoutThatCannotBeWrittenExits13) {
    for (bool json_output : {true, false}) {
        auto out = run(one(std::make_unique<scripted_backend>(std::vector{
                           event("AA:BB:CC:DD:EE:01", release::event_kind::delivered)})),
                       {"AA:BB:CC:DD:EE:01"}, 60s, json_output, "/dev/full");
        EXPECT_EQ(out.code, 13) << out.err;
        EXPECT_NE(out.err.find("could not be written to standard output: No space left on device"), std::string::npos)
            << out.err;
        EXPECT_NE(out.err.find("the command itself succeeded (exit 0)"), std::string::npos) << out.err;
    }
}

TEST(ServeRun, TextModeEndsWithTheTableAndTheCount) {
    auto out = run(one(std::make_unique<scripted_backend>(std::vector{
                       event("AA:BB:CC:DD:EE:01", release::event_kind::asked),
                       event("AA:BB:CC:DD:EE:01", release::event_kind::delivered)})),
                   {"AA:BB:CC:DD:EE:01"}, 60s, false);
    EXPECT_EQ(out.code, 0) << out.err;
    ASSERT_GE(out.lines.size(), 3u);
    EXPECT_EQ(out.lines.front(), "listening on http://127.0.0.1:1/");
    EXPECT_EQ(out.lines.back(), "served 2 requests, 1 complete downloads, 1024 bytes");
    EXPECT_EQ(out.lines[out.lines.size() - 2],
              "AA:BB:CC:DD:EE:01    yes       delivered              1024  200 firmware");
}

// A transport that can no longer serve (its broker refused a reconnect) ends the run with its own
// failure and exit code, after the table of what was served until then; every backend is stopped.
TEST(ServeRun, AFailureAfterStartEndsTheRunWithItsCode) {
    auto broken = std::make_unique<scripted_backend>(std::vector{event("AA:BB:CC:DD:EE:01", release::event_kind::delivered)});
    broken->fails_later = make_failure(errc::broker_refused, "the broker refused the connection", "check the password");
    auto other = std::make_unique<scripted_backend>(std::vector<release::device_event>{});
    auto a = broken->stops;
    auto b = other->stops;
    std::vector<std::unique_ptr<serve::backend>> list;
    list.push_back(std::move(broken));
    list.push_back(std::move(other));
    auto out = run(std::move(list), {}, {});
    EXPECT_EQ(out.code, 6);
    const auto& summary = out.lines.back();
    EXPECT_EQ(summary["error"]["code"], "broker_refused");
    EXPECT_EQ(summary["error"]["message"], "the broker refused the connection");
    EXPECT_EQ(summary["error"]["hint"], "check the password");
    EXPECT_EQ(summary["delivered"], 1);
    EXPECT_EQ(*a, 1);
    EXPECT_EQ(*b, 1);
}

// Last in this file: the signal stays latched for the rest of the process (the reporter then ends
// every failure as interrupted), and these tests also run in one process outside ctest.
TEST(ServeRun, SigtermStopsTheBackendsAndExits143) {
    auto backend = std::make_unique<scripted_backend>(std::vector{event("AA:BB:CC:DD:EE:01", release::event_kind::asked)},
                                                      std::nullopt, [] { std::raise(SIGTERM); });
    auto stops = backend->stops;
    std::vector<std::unique_ptr<serve::backend>> list;
    list.push_back(std::move(backend));
    auto out = run(std::move(list), {}, {});
    EXPECT_EQ(out.code, 143);
    EXPECT_EQ(out.lines.back()["error"]["code"], "interrupted_sigterm");
    EXPECT_EQ(*stops, 1);
}
