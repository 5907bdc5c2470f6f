#include "mosquitto_broker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace otaflash::test {
namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

bool accepts(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    const sockaddr_in a = loopback(port);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// run_process takes a path (execve): find the tool in PATH, or in /usr/sbin where mosquitto lives.
std::string tool(const std::string& name) {
    std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
    dirs += ":/usr/sbin:/sbin:/usr/local/sbin";
    std::stringstream split(dirs);
    for (std::string dir; std::getline(split, dir, ':');)
        if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
    throw std::runtime_error(name + " is not installed (scripts/setup installs mosquitto and mosquitto-clients)");
}

void must_run(std::vector<std::string> argv) {
    argv[0] = tool(argv[0]);
    process_options o;
    o.timeout = 60000ms;
    auto r = run_process(argv, o);
    if (r.exit_code != 0) throw std::runtime_error(argv[0] + " failed: " + r.err);
}

}  // namespace

std::uint16_t free_loopback_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("cannot find a free loopback port");
    ::close(fd);
    return ntohs(a.sin_port);
}

mosquitto_broker::mosquitto_broker(broker_options options) : options_(std::move(options)) {
    // mosquitto started by root drops to the user "mosquitto": it must be able to read its files
    // and write its log here.
    ::chmod(dir_.path().c_str(), 0755);
    port_ = free_loopback_port();
    write_config();
    start();
}

mosquitto_broker::~mosquitto_broker() { stop(); }

std::string mosquitto_broker::url() const {
    return std::string(options_.tls ? "mqtts://" : "mqtt://") + "127.0.0.1:" + std::to_string(port_);
}

std::string mosquitto_broker::ca_file() const { return dir_.file("ca.pem"); }

std::string mosquitto_broker::log() const {
    std::ifstream in(dir_.file("mosquitto.log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void mosquitto_broker::write_config() {
    std::ostringstream c;
    c << "listener " << port_ << " 127.0.0.1\n"
      << "set_tcp_nodelay true\n"
      << "persistence false\n"
      << "log_dest file " << dir_.file("mosquitto.log") << "\n"
      << "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
      << "connection_messages true\n"
      << "max_queued_messages 100000\n"
      << "allow_anonymous " << (options_.anonymous ? "true" : "false") << "\n";
    if (::geteuid() == 0) c << "user mosquitto\n";
    if (!options_.users.empty()) {
        const std::string file = dir_.file("passwd");
        bool first = true;
        for (const auto& [user, password] : options_.users) {
            std::vector<std::string> argv{"mosquitto_passwd", "-b"};
            if (first) argv.push_back("-c");
            argv.insert(argv.end(), {file, user, password});
            must_run(argv);
            first = false;
        }
        ::chmod(file.c_str(), 0644);
        c << "password_file " << file << "\n";
    }
    if (!options_.acl.empty()) {
        const std::string file = dir_.write("acl", options_.acl);
        ::chmod(file.c_str(), 0644);
        c << "acl_file " << file << "\n";
    }
    if (options_.tls) {
        const auto d = [&](const char* name) { return dir_.file(name); };
        const std::string ext = dir_.write("san.ext", std::string("subjectAltName=IP:127.0.0.1\n"));
        must_run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", d("ca.key"), "-out", d("ca.pem"), "-days", "2", "-subj", "/CN=otaflash test CA"});
        must_run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                  d("server.key"), "-out", d("server.csr"), "-subj", "/CN=127.0.0.1"});
        must_run({"openssl", "x509", "-req", "-in", d("server.csr"), "-CA", d("ca.pem"), "-CAkey", d("ca.key"),
                  "-CAcreateserial", "-out", d("server.pem"), "-days", "2", "-extfile", ext});
        for (const char* f : {"ca.pem", "server.pem", "server.key"}) ::chmod(d(f).c_str(), 0644);
        c << "cafile " << d("ca.pem") << "\ncertfile " << d("server.pem") << "\nkeyfile " << d("server.key") << "\n";
    }
    const std::string log = dir_.write("mosquitto.log", std::string());
    ::chmod(log.c_str(), 0666);
    const std::string conf = dir_.write("mosquitto.conf", c.str());
    ::chmod(conf.c_str(), 0644);
}

void mosquitto_broker::start() {
    stop();
    process_ = std::make_unique<background_process>(std::vector<std::string>{tool("mosquitto"), "-c", dir_.file("mosquitto.conf")});
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (accepts(port_)) return;
        if (!process_->running()) break;
        std::this_thread::sleep_for(20ms);
    }
    auto r = process_->stop();
    process_.reset();
    throw std::runtime_error("mosquitto did not start on port " + std::to_string(port_) + ": " + r.err + "\n" + log());
}

void mosquitto_broker::reconfigure(broker_options options) {
    options_ = std::move(options);
    write_config();
}

void mosquitto_broker::stop() {
    if (!process_) return;
    process_->stop();
    process_.reset();
}

}  // namespace otaflash::test
