#pragma once
// Runs build/bin/otaflash-ota-device in the background and build/bin/otaflash push against it on
// loopback, with short timeouts so every case ends in seconds.

#include "fixtures.hpp"
#include "json_events.hpp"
#include "subprocess.hpp"

#include <nlohmann/json.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::test {

using namespace std::chrono_literals;

inline const std::string device_password = "s3cret pass";  // with a space: passwords may have one

struct device_options {
    std::string kind = "esp8266";
    std::string bind = "127.0.0.1";
    std::string port = "0";
    bool password = false;
    std::vector<std::string> extra = {};  // --fault …, --stored-hash … (= {}: designated initializers may leave it out)
};

class emulated_device {
public:
    emulated_device(const device_options& o, const temp_dir& dir) : out_file_(dir.file("received.bin")) {
        std::vector<std::string> argv{bin_path("otaflash-ota-device"), "--kind", o.kind, "--bind", o.bind,
                                      "--port", o.port, "--out", out_file_, "--time-scale", "0.25",
                                      "--recv-buffer", "5744"};
        argv.insert(argv.end(), o.extra.begin(), o.extra.end());
        process_options po;
        if (o.password) po.env["OTAFLASH_DEVICE_PASSWORD"] = device_password;
        else po.unset_env.push_back("OTAFLASH_DEVICE_PASSWORD");
        proc_ = std::make_unique<background_process>(argv, po);
        auto ready = next_event("ready", 10s);
        if (!ready) {
            auto r = proc_->stop();
            throw std::runtime_error("the emulated device did not start: " + r.err);
        }
        address_ = (*ready)["address"].get<std::string>();
        port_ = (*ready)["port"].get<std::uint16_t>();
    }

    // The next event named `name` (other events are skipped), or nullopt when none comes in time.
    std::optional<nlohmann::json> next_event(const std::string& name, std::chrono::milliseconds timeout) {
        return next_json_event(*proc_, name, timeout);
    }

    std::string target() const {
        return (address_.find(':') != std::string::npos ? "[" + address_ + "]" : address_) + ":" + std::to_string(port_);
    }
    const std::string& address() const { return address_; }
    std::uint16_t port() const { return port_; }
    const std::string& out_file() const { return out_file_; }
    process_result stop() { return proc_->stop(); }

private:
    std::string out_file_;
    std::unique_ptr<background_process> proc_;
    std::string address_;
    std::uint16_t port_ = 0;
};

struct push_result {
    process_result proc;
    nlohmann::json doc;  // the --json document (null when stdout was not one)
    std::string code() const { return doc.is_object() && doc["error"].is_object() ? doc["error"]["code"].get<std::string>() : ""; }
    std::string message() const { return doc.is_object() && doc["error"].is_object() ? doc["error"]["message"].get<std::string>() : ""; }
    std::string hint() const { return doc.is_object() && doc["error"].is_object() ? doc["error"]["hint"].get<std::string>() : ""; }
};

// Short timeouts: a silent device is given up on in about 2 s.
inline std::vector<std::string> fast_timeouts() {
    return {"--invite-timeout", "300ms", "--invite-retries", "2", "--auth-timeout", "1500ms",
            "--accept-timeout", "2s",    "--ack-timeout",    "2s", "--result-timeout", "4s"};
}

struct push_call {
    std::vector<std::string> args;             // after "push"
    std::optional<std::string> password_env;   // OTAFLASH_PASSWORD
    std::optional<std::string> stdin_data;
    std::map<std::string, std::string> env;    // more variables (per-device passwords)
    std::string command = "push";
    bool json = true;
    std::chrono::milliseconds deadline = 40s;
};

inline push_result run_otaflash(const push_call& call) {
    std::vector<std::string> argv{bin_path("otaflash")};
    if (call.json) argv.push_back("--json");
    argv.push_back(call.command);
    argv.insert(argv.end(), call.args.begin(), call.args.end());
    process_options po;
    po.timeout = call.deadline;
    po.env["CI"] = "true";
    po.env["NO_COLOR"] = "1";
    for (const auto& [name, value] : call.env) po.env[name] = value;
    if (call.password_env) po.env["OTAFLASH_PASSWORD"] = *call.password_env;
    else po.unset_env.push_back("OTAFLASH_PASSWORD");
    po.stdin_data = call.stdin_data.value_or("");
    push_result r;
    r.proc = run_process(argv, po);
    r.doc = nlohmann::json::parse(r.proc.out, nullptr, false);
    if (r.doc.is_discarded()) r.doc = nullptr;
    return r;
}

// The JSON contract holds on every path: one document, its exit_code equal to the real one.
inline void expect_consistent(const push_result& r) {
    EXPECT_FALSE(r.proc.timed_out) << "otaflash did not end by its deadline";
    ASSERT_TRUE(r.doc.is_object()) << "stdout is not one JSON document:\n" << r.proc.out << "\nstderr:\n" << r.proc.err;
    EXPECT_EQ(r.doc["exit_code"].get<int>(), r.proc.exit_code) << r.proc.err;
    EXPECT_EQ(r.doc["ok"].get<bool>(), r.proc.exit_code == 0);
}

// A push that must succeed: run, its document consistent, exit 0 (the rest of the test goes on
// after a failure here, and its own checks then say what is missing).
inline push_result expect_pushed(const push_call& call) {
    auto r = run_otaflash(call);
    expect_consistent(r);
    EXPECT_EQ(r.proc.exit_code, 0) << r.proc.err;
    return r;
}

inline void expect_received_identical(emulated_device& device, const std::string& image_path) {
    auto update = device.next_event("update", 10s);
    ASSERT_TRUE(update) << "the device reported no update";
    EXPECT_TRUE((*update)["ok"].get<bool>()) << update->dump();
    EXPECT_EQ(slurp(device.out_file()), slurp(image_path)) << "the device received different bytes";
}

// A random 127.x.y.1: the first address of a fleet of our own, so that tests running at the same
// time (ours or anyone's on this machine) never share addresses or fixed ports.
inline std::string private_loopback_base() {
    std::random_device rd;
    return "127." + std::to_string(100 + rd() % 150) + "." + std::to_string(rd() % 256) + ".1";
}

struct fleet_member {
    std::string address;
    std::uint16_t port = 0;
    std::string hostname;
    std::string kind;
    std::string target() const { return address + ":" + std::to_string(port); }
    std::string device() const { return target(); }  // how the emulator's events name it
};

// One otaflash-ota-device process running a fleet, one loopback address per device (from a
// private base), each accepted image in DIR/got-INDEX.bin.
class emulated_fleet {
public:
    // `spread`: "address" (one address each, on the kind's port) or "port" (one address, ports from
    // the system).
    emulated_fleet(const std::vector<std::string>& groups, std::size_t count, const temp_dir& dir,
                   process_options po = {}, const std::string& spread = "address")
        : dir_(dir.path()) {
        std::vector<std::string> argv{bin_path("otaflash-ota-device"), "--bind", private_loopback_base(), "--spread", spread,
                                      "--time-scale", "0.25", "--recv-buffer", "5744", "--out", dir.file("got-%d.bin")};
        if (spread == "port") argv.insert(argv.end(), {"--port", "0"});
        argv.insert(argv.end(), groups.begin(), groups.end());
        if (po.env.find("OTAFLASH_DEVICE_PASSWORD") == po.env.end()) po.unset_env.push_back("OTAFLASH_DEVICE_PASSWORD");
        proc_ = std::make_unique<background_process>(argv, po);
        while (members_.size() < count) {
            auto ready = next("ready", 10s);
            if (!ready) {
                auto r = proc_->stop();
                throw std::runtime_error("the emulated fleet did not start: " + r.err);
            }
            members_.push_back({(*ready)["address"], (*ready)["port"], (*ready)["hostname"], (*ready)["kind"]});
        }
    }

    const std::vector<fleet_member>& members() const { return members_; }
    const fleet_member& operator[](std::size_t i) const { return members_.at(i); }
    std::string out_file(std::size_t index) const { return dir_ + "/got-" + std::to_string(index) + ".bin"; }

    // The next event named `name`, or nullopt when none came in time; others are kept for events().
    std::optional<nlohmann::json> next(const std::string& name, std::chrono::milliseconds timeout) {
        return next_json_event(*proc_, name, timeout, &seen_);
    }

    // Every event so far plus those arriving within `quiet` of each other (the fleet settles).
    const std::vector<nlohmann::json>& events(std::chrono::milliseconds quiet = 300ms) {
        while (auto line = proc_->read_line(quiet)) {
            auto event = nlohmann::json::parse(*line, nullptr, false);
            if (!event.is_discarded()) seen_.push_back(event);
        }
        return seen_;
    }

    // How many events named `name` came from `member`.
    std::size_t count(const std::string& name, const fleet_member& member, std::chrono::milliseconds quiet = 300ms) {
        std::size_t n = 0;
        for (const auto& e : events(quiet))
            if (e.value("event", "") == name && e.value("device", "") == member.device()) ++n;
        return n;
    }

    // The `update` event of `member` (seen already or still to come), or nullopt when none came in time.
    std::optional<nlohmann::json> update_of(const fleet_member& member, std::chrono::milliseconds timeout = 10s) {
        auto mine = [&](const nlohmann::json& e) {
            return e.value("event", "") == "update" && e.value("device", "") == member.device() && !e.contains("consumed");
        };
        for (std::size_t i = 0; i < seen_.size(); ++i)
            if (mine(seen_[i])) return take(i);
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (auto e = next("update", std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())))
            if (mine(*e)) return take(seen_.size() - 1);
        return std::nullopt;
    }

    // Each device in `indices` reported a successful update and wrote exactly `image_path`.
    void expect_received(const std::vector<std::size_t>& indices, const std::string& image_path) {
        for (std::size_t i : indices) {
            auto update = update_of(members_.at(i));
            ASSERT_TRUE(update) << "device " << i << " reported no update";
            EXPECT_TRUE((*update)["ok"].get<bool>()) << update->dump();
            EXPECT_EQ(slurp(out_file(i)), slurp(image_path)) << "device " << i << " received different bytes";
        }
    }

    process_result stop() { return proc_->stop(); }

private:
    // Marks an update event as consumed, so the next update_of() of that device looks further.
    nlohmann::json take(std::size_t i) {
        seen_[i]["consumed"] = true;
        return seen_[i];
    }

    std::string dir_;
    std::unique_ptr<background_process> proc_;
    std::vector<fleet_member> members_;
    std::vector<nlohmann::json> seen_;
};

}  // namespace otaflash::test
