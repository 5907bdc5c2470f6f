#pragma once
// Runs a program of ours as a child process for CLI and integration tests: captures stdout and
// stderr, enforces a deadline (the child is killed when it passes), never leaves a zombie.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::test {

struct process_result {
    int exit_code = -1;        // -1 when killed by a signal
    int signal = 0;            // the signal that ended it, if any
    bool timed_out = false;    // we killed it at the deadline
    std::string out;
    std::string err;
};

struct process_options {
    std::chrono::milliseconds timeout{30000};
    std::map<std::string, std::string> env;     // added to (or replacing in) our environment
    std::vector<std::string> unset_env;         // removed from the environment
    std::optional<std::string> stdin_data;      // written to the child's stdin, then closed
    std::string working_dir;
    std::string stdout_path;                    // stdout goes to this file instead (e.g. /dev/full)
    bool stderr_to_stdout = false;              // one stream in `out`, in the order written (2>&1 | cat)
};

process_result run_process(const std::vector<std::string>& argv, const process_options& options = {});

// A long-running child (an emulator): started, read line by line, stopped in the destructor.
class background_process {
public:
    background_process(const std::vector<std::string>& argv, const process_options& options = {});
    ~background_process();
    background_process(const background_process&) = delete;
    background_process& operator=(const background_process&) = delete;

    // Next line of stdout (without '\n'), or nullopt at EOF or when the deadline passes.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Sends SIGTERM, waits up to `grace`, then SIGKILL. Returns what remained on stdout/stderr.
    process_result stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
    int pid() const noexcept { return pid_; }
    bool running();

private:
    int pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_buffer_;
    std::string err_text_;
    std::optional<process_result> final_;
    std::optional<int> reaped_status_;  // set when running() saw the child exit
};

// Path of a built executable (CMake passes the build's bin folder as OTAFLASH_BIN_DIR).
std::string bin_path(const std::string& name);

// Runs the built otaflash with `args` in a deterministic environment (CI=true, NO_COLOR=1).
process_result run_otaflash(std::vector<std::string> args, process_options options = {});

}  // namespace otaflash::test
