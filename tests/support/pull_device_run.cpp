#include "pull_device_run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace otaflash::test {

using json = nlohmann::json;

json device_run::result() const {
    for (const auto& e : events)
        if (e["event"] == "result") return e;
    return nullptr;
}

std::vector<json> device_run::requests() const {
    std::vector<json> out;
    for (const auto& e : events)
        if (e["event"] == "request") out.push_back(e);
    return out;
}

device_run pull(std::vector<std::string> args, process_options options) {
    if (std::find(args.begin(), args.end(), "--timeout") == args.end()) args.insert(args.end(), {"--timeout", "5000"});
    args.insert(args.begin(), bin_path("otaflash-pull-device"));
    for (const char* variable : {"OTAFLASH_DEVICE_PASSWORD", "OTAFLASH_DEVICE_TOKEN"})
        if (!options.env.count(variable)) options.unset_env.push_back(variable);
    options.timeout = std::chrono::seconds(60);
    device_run run{run_process(args, options), {}};
    std::istringstream lines(run.r.out);
    for (std::string line; std::getline(lines, line);) {
        auto j = json::parse(line, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << "not JSON on stdout: " << line;
        if (!j.is_discarded()) run.events.push_back(std::move(j));
    }
    return run;
}

void expect_resumed_once(const device_run& run, std::size_t cut, std::size_t size) {
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    auto result = run.result();
    EXPECT_EQ(result["outcome"], "updated");
    EXPECT_EQ(result["resumed"], 1);
    auto requests = run.requests();
    ASSERT_EQ(requests.size(), 3u) << run.r.out;
    EXPECT_EQ(requests[1]["status"], 200);
    EXPECT_EQ(requests[1]["cut"], true);
    EXPECT_EQ(requests[1]["bytes"], cut);
    EXPECT_EQ(requests[2]["status"], 206);
    EXPECT_EQ(requests[2]["range"], "bytes=" + std::to_string(cut) + "-");
    EXPECT_EQ(requests[2]["bytes"], size - cut);
}

}  // namespace otaflash::test
