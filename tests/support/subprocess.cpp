#include "subprocess.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace otaflash::test {
namespace {

using clock_type = std::chrono::steady_clock;

struct child {
    int pid = -1;
    int in = -1, out = -1, err = -1;
};

std::vector<std::string> build_env(const process_options& options) {
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e; ++e) {
        std::string kv{*e};
        auto eq = kv.find('=');
        if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto& name : options.unset_env) vars.erase(name);
    for (const auto& [k, v] : options.env) vars[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
    return out;
}

child spawn(const std::vector<std::string>& argv, const process_options& options) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    auto env = build_env(options);
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);

    int pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        if (options.stderr_to_stdout) ::dup2(out_pipe[1], 2);
        if (!options.stdout_path.empty()) {
            const int fd = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || ::dup2(fd, 1) < 0) ::_exit(126);
        }
        if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) ::_exit(126);
        ::execve(cargv[0], cargv.data(), cenv.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    child c{pid, in_pipe[1], out_pipe[0], err_pipe[0]};
    if (options.stdin_data) {
        const std::string& data = *options.stdin_data;
        std::size_t put = 0;
        ::signal(SIGPIPE, SIG_IGN);
        while (put < data.size()) {
            ssize_t n = ::write(c.in, data.data() + put, data.size() - put);
            if (n <= 0) break;
            put += static_cast<std::size_t>(n);
        }
    }
    ::close(c.in);
    c.in = -1;
    return c;
}

// Reads whatever is available on the fds until both are closed or the deadline passes.
bool pump(int& out_fd, int& err_fd, std::string& out, std::string& err, clock_type::time_point deadline,
          bool stop_at_newline = false) {
    char buf[8192];
    while (out_fd >= 0 || err_fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
        if (left <= 0) return false;
        pollfd fds[2];
        int n = 0;
        int out_idx = -1, err_idx = -1;
        if (out_fd >= 0) { out_idx = n; fds[n++] = {out_fd, POLLIN, 0}; }
        if (err_fd >= 0) { err_idx = n; fds[n++] = {err_fd, POLLIN, 0}; }
        int r = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long long>(left, 1000)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        auto drain = [&](int idx, int& fd, std::string& sink) {
            if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return false;
            ssize_t got = ::read(fd, buf, sizeof buf);
            if (got <= 0) { ::close(fd); fd = -1; return false; }
            sink.append(buf, static_cast<std::size_t>(got));
            return true;
        };
        bool new_out = drain(out_idx, out_fd, out);
        drain(err_idx, err_fd, err);
        if (stop_at_newline && new_out && out.find('\n') != std::string::npos) return true;
    }
    return true;
}

void fill_status(int status, process_result& r) {
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) { r.exit_code = -1; r.signal = WTERMSIG(status); }
}

int wait_until(int pid, clock_type::time_point deadline, int& status) {
    while (true) {
        int r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return r;
        if (r < 0 && errno != EINTR) return r;
        if (clock_type::now() >= deadline) return 0;
        ::usleep(2000);
    }
}

}  // namespace

process_result run_process(const std::vector<std::string>& argv, const process_options& options) {
    process_result r;
    child c = spawn(argv, options);
    auto deadline = clock_type::now() + options.timeout;
    bool finished = pump(c.out, c.err, r.out, r.err, deadline);
    int status = 0;
    if (!finished || wait_until(c.pid, deadline, status) != c.pid) {
        r.timed_out = true;
        ::kill(-c.pid, SIGKILL);
        ::kill(c.pid, SIGKILL);
        ::waitpid(c.pid, &status, 0);
    }
    if (c.out >= 0) ::close(c.out);
    if (c.err >= 0) ::close(c.err);
    fill_status(status, r);
    return r;
}

background_process::background_process(const std::vector<std::string>& argv, const process_options& options) {
    child c = spawn(argv, options);
    pid_ = c.pid;
    out_fd_ = c.out;
    err_fd_ = c.err;
}

background_process::~background_process() { stop(std::chrono::milliseconds(1000)); }

bool background_process::running() {
    if (final_ || reaped_status_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_status_ = status;
        return false;
    }
    return true;
}

std::optional<std::string> background_process::read_line(std::chrono::milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    while (true) {
        auto nl = out_buffer_.find('\n');
        if (nl != std::string::npos) {
            std::string line = out_buffer_.substr(0, nl);
            out_buffer_.erase(0, nl + 1);
            return line;
        }
        if (out_fd_ < 0 || clock_type::now() >= deadline) return std::nullopt;
        pump(out_fd_, err_fd_, out_buffer_, err_text_, deadline, true);
    }
}

process_result background_process::stop(std::chrono::milliseconds grace) {
    if (final_) return *final_;
    process_result r;
    int status = reaped_status_.value_or(0);
    if (!reaped_status_ && ::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGTERM);
        if (wait_until(pid_, clock_type::now() + grace, status) != pid_) {
            r.timed_out = true;
            ::kill(-pid_, SIGKILL);
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
    }
    pump(out_fd_, err_fd_, out_buffer_, err_text_, clock_type::now() + std::chrono::milliseconds(200));
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
    out_fd_ = err_fd_ = -1;
    fill_status(status, r);
    r.out = out_buffer_;
    r.err = err_text_;
    final_ = r;
    return r;
}

std::string bin_path(const std::string& name) { return std::string{OTAFLASH_BIN_DIR} + "/" + name; }

process_result run_otaflash(std::vector<std::string> args, process_options options) {
    args.insert(args.begin(), bin_path("otaflash"));
    options.env.emplace("CI", "true");
    options.env.emplace("NO_COLOR", "1");
    options.timeout = std::chrono::milliseconds(20000);
    return run_process(args, options);
}

}  // namespace otaflash::test
