#include "serve_harness.hpp"

#include "image_builder.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <csignal>
#include <regex>
#include <sys/wait.h>
#include <thread>

namespace otaflash::test {

serve_process::serve_process(std::vector<std::string> args, const process_options& options) {
    bool listens = false;
    for (const auto& a : args) listens = listens || a == "--listen";
    std::vector<std::string> argv{bin_path("otaflash"), "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (!listens) argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
    auto env_options = options;
    env_options.env.emplace("CI", "true");
    env_options.env.emplace("NO_COLOR", "1");
    proc_ = std::make_unique<background_process>(argv, env_options);
    auto line = proc_->read_line(std::chrono::seconds(10));
    if (!line) return;
    first_line_ = *line;
    static const std::regex url(R"((https?)://127\.0\.0\.1:([0-9]+)/)");
    for (std::sregex_iterator it(first_line_.begin(), first_line_.end(), url), end; it != end; ++it) {
        auto port = static_cast<std::uint16_t>(std::stoi((*it)[2]));
        if ((*it)[1] == "https" && !tls_port_) tls_port_ = port;
        if ((*it)[1] == "http" && !port_) port_ = port;
    }
}

std::optional<std::string> serve_process::wait_line(const std::string& needle, std::chrono::milliseconds timeout) {
    for (; searched_ < lines_.size(); ++searched_)
        if (lines_[searched_].find(needle) != std::string::npos) return lines_[searched_++];
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        auto line = proc_->read_line(left);
        if (!line) return std::nullopt;
        lines_.push_back(*line);
        searched_ = lines_.size();
        if (line->find(needle) != std::string::npos) return line;
    }
}

process_result serve_process::stop(int signal_number, std::chrono::milliseconds grace) {
    if (proc_->running()) {
        if (signal_number) ::kill(proc_->pid(), signal_number);
        const auto deadline = std::chrono::steady_clock::now() + grace;
        while (proc_->running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto result = proc_->stop(grace);
    // What was left on stdout joins the kept lines.
    std::size_t start = 0;
    while (start < result.out.size()) {
        auto nl = result.out.find('\n', start);
        lines_.push_back(result.out.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    return result;
}

bytes esp8266_image() {
    image_spec spec;
    spec.target = chip::esp8266;
    return build_image(spec);
}

bytes esp32_image(std::size_t size, const std::string& version, unsigned seed) {
    return build_sized_app(chip::esp32, size, version, seed);
}

std::string md5_hex(const std::string& data) {
    auto digest = md5(byte_view{reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
    return to_hex(digest);
}

}  // namespace otaflash::test
