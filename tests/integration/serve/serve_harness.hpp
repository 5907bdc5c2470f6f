#pragma once
// `otaflash serve` as a child process for the HTTP tests: started on loopback ports chosen by the
// kernel, its first stdout line read for the URLs, every later line kept for assertions.

#include "fixtures.hpp"
#include "http_client.hpp"
#include "subprocess.hpp"

#include <otaflash/util/bytes.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::test {

class serve_process {
public:
    // `args` follow "otaflash serve"; unless one is given, "--listen 127.0.0.1:0" is added.
    explicit serve_process(std::vector<std::string> args, const process_options& options = {});

    bool started() const noexcept { return port_ != 0 || tls_port_ != 0; }
    std::uint16_t port() const noexcept { return port_; }          // the first http:// URL's
    std::uint16_t tls_port() const noexcept { return tls_port_; }  // the first https:// URL's
    const std::string& first_line() const noexcept { return first_line_; }

    // Reads stdout until a line containing `needle` (kept lines are searched first).
    std::optional<std::string> wait_line(const std::string& needle,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
    const std::vector<std::string>& lines() const noexcept { return lines_; }
    // Sends `signal_number` (0: none, the run is ending by itself), waits up to `grace` for the
    // exit, then SIGTERM/SIGKILL as background_process::stop does.
    process_result stop(int signal_number = 15, std::chrono::milliseconds grace = std::chrono::seconds(5));
    background_process& process() { return *proc_; }

private:
    std::unique_ptr<background_process> proc_;
    std::string first_line_;
    std::uint16_t port_ = 0, tls_port_ = 0;
    std::vector<std::string> lines_;
    std::size_t searched_ = 0;
};

// Test releases: an ESP8266 image (small) and an ESP32 app of about `size` bytes.
bytes esp8266_image();
bytes esp32_image(std::size_t size = 64 * 1024, const std::string& version = "2.4.0", unsigned seed = 1);

std::string md5_hex(const std::string& data);

}  // namespace otaflash::test
