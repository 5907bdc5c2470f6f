#include "nginx_server.hpp"

#include "mosquitto_broker.hpp"  // free_loopback_port

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace otaflash::test {
namespace {

using namespace std::chrono_literals;

bool accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

nginx_server::nginx_server(std::string root) : root_(std::move(root)) {
    ::chmod(dir_.path().c_str(), 0755);
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
      << "  server {\n    listen 127.0.0.1:" << port_ << ";\n    root " << root_ << ";\n  }\n}\n";
    const std::string conf = dir_.write("nginx.conf", c.str());
    ::chmod(conf.c_str(), 0644);
    process_ = std::make_unique<background_process>(
        std::vector<std::string>{"/usr/sbin/nginx", "-p", dir_.path(), "-c", conf, "-e", dir_.file("error.log")});
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (accepts(port_)) return;
        if (!process_->running()) break;
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
