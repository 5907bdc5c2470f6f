#include "nginx_server.hpp"

#include "http_client.hpp"      // connect_loopback
#include "mosquitto_broker.hpp"  // free_loopback_port

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace otaflash::test {
namespace {

using namespace std::chrono_literals;

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

nginx_server::nginx_server(std::string root, std::string server_extra) : root_(std::move(root)) {
    ::chmod(dir_.path().c_str(), 0755);  // the workers (nobody) create their temp folders here
    port_ = free_loopback_port();
    std::ostringstream c;
    c << "daemon off;\nmaster_process on;\nworker_processes 1;\n"
      << "pid " << dir_.file("nginx.pid") << ";\n"
      << "error_log " << dir_.file("error.log") << " info;\n";
    if (::geteuid() == 0) c << "user nobody nogroup;\n";
    c << "events { worker_connections 256; }\n"
      << "http {\n"
      << "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
      << "  access_log " << dir_.file("access.log") << ";\n"
      // Temp paths of their own: the defaults below /var/lib/nginx need root.
      << "  client_body_temp_path " << dir_.file("body") << ";\n  proxy_temp_path " << dir_.file("proxy") << ";\n"
      << "  fastcgi_temp_path " << dir_.file("fastcgi") << ";\n  uwsgi_temp_path " << dir_.file("uwsgi") << ";\n"
      << "  scgi_temp_path " << dir_.file("scgi") << ";\n"
      << "  server {\n    listen 127.0.0.1:" << port_ << ";\n    root " << root_ << ";\n"
      << server_extra << "\n  }\n}\n";
    const std::string conf = dir_.write("nginx.conf", c.str());
    ::chmod(conf.c_str(), 0644);
    process_ = std::make_unique<background_process>(
        std::vector<std::string>{"/usr/sbin/nginx", "-p", dir_.path() + "/", "-c", conf, "-e", dir_.file("error.log")});
    // Ready when the master has written its pid file (after binding the port) and the port
    // accepts: a port taken by someone else in between makes nginx exit, not this return.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline && process_->running()) {
        if (std::filesystem::exists(dir_.file("nginx.pid"))) {
            const int fd = connect_loopback(port_);
            if (fd >= 0) {
                ::close(fd);
                return;
            }
        }
        std::this_thread::sleep_for(20ms);
    }
    auto r = process_->stop();
    process_.reset();
    throw std::runtime_error("nginx did not start on port " + std::to_string(port_) + ": " + r.err + "\n" + error_log());
}

nginx_server::~nginx_server() {
    if (process_) process_->stop();  // SIGTERM: nginx's fast shutdown
}

std::string nginx_server::url() const { return "http://127.0.0.1:" + std::to_string(port_); }
std::string nginx_server::access_log() const { return read_text(dir_.file("access.log")); }
std::string nginx_server::error_log() const { return read_text(dir_.file("error.log")); }

}  // namespace otaflash::test
