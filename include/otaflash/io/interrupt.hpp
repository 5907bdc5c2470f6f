#pragma once
// The interrupt latch: the first SIGINT or SIGTERM of the run, wherever it was caught (the event
// loop of push and serve, a serial wait, an mDNS query, the password prompt), and the failure
// that reports it. One rule for every command: after a signal it ends with 130 (SIGINT) or 143
// (SIGTERM), and under --json still with its one document (cli/output.cpp applies the rule).

#include <otaflash/error.hpp>

#include <signal.h>

#include <string>
#include <string_view>

namespace otaflash::io {

// Records `signal_number` unless a signal was recorded already. Async-signal-safe.
void latch_interrupt(int signal_number) noexcept;
// The first signal recorded; 0 while none was.
int latched_interrupt() noexcept;

// "interrupted by SIGINT" + `what_then` (e.g. " before any data was sent"), with
// errc::interrupted_sigint, or _sigterm for SIGTERM.
failure interrupted_failure(int signal_number, std::string_view what_then = {},
                            std::string hint = "run the command again when ready");

// While it lives, SIGINT and SIGTERM only set the latch (and end a blocking read with EINTR)
// instead of ending the process or reaching the handlers installed before, which come back after.
// For a blocking call outside an event loop: the password prompt.
class interrupt_catcher {
public:
    interrupt_catcher();
    ~interrupt_catcher();
    interrupt_catcher(const interrupt_catcher&) = delete;
    interrupt_catcher& operator=(const interrupt_catcher&) = delete;

private:
    struct sigaction saved_int_{};
    struct sigaction saved_term_{};
};

}  // namespace otaflash::io
