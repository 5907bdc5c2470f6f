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

device_run pull(std::vector<std::string> args) {
    if (std::find(args.begin(), args.end(), "--timeout") == args.end()) args.insert(args.end(), {"--timeout", "5000"});
    args.insert(args.begin(), bin_path("otaflash-pull-device"));
    process_options options;
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

}  // namespace otaflash::test
