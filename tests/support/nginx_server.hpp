#pragma once
// A private nginx for tests: an unprivileged server (workers as nobody when the test runs as
// root) on a free 127.0.0.1 port with a generated config, serving one folder as static files
// (Range, ETag and Content-Length as nginx does them). Its config, pid and logs stay in its temp dir.

#include "fixtures.hpp"
#include "subprocess.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace otaflash::test {

class nginx_server {
public:
    // Serves `root` (which must be readable by every user) at http://127.0.0.1:PORT/; `server_extra`
    // goes into the server block (e.g. location blocks a README recommends). Throws when nginx
    // does not start within 20 s, with its error log.
    explicit nginx_server(std::string root, std::string server_extra = {});
    ~nginx_server();
    nginx_server(const nginx_server&) = delete;
    nginx_server& operator=(const nginx_server&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    std::string url() const;  // http://127.0.0.1:PORT (no trailing slash)
    std::string access_log() const;
    std::string error_log() const;

private:
    temp_dir dir_;
    std::string root_;
    std::uint16_t port_ = 0;
    std::unique_ptr<background_process> process_;
};

}  // namespace otaflash::test
