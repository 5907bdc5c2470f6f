#include "cli/terminal.hpp"

#include <otaflash/io/interrupt.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <termios.h>
#include <unistd.h>

namespace otaflash::cli {
namespace {
bool env_truthy(const char* name) {
    const char* v = std::getenv(name);
    if (!v) return false;
    std::string_view s{v};
    return !(s.empty() || s == "0" || s == "false" || s == "no");
}
}  // namespace

terminal_facts read_terminal_facts() {
    terminal_facts f;
    f.stdin_tty = ::isatty(STDIN_FILENO) == 1;
    f.stderr_tty = ::isatty(STDERR_FILENO) == 1;
    f.ci = env_truthy("CI");
    const char* term = std::getenv("TERM");
    f.dumb = term && std::string_view{term} == "dumb";
    f.no_color = std::getenv("NO_COLOR") != nullptr;
    if (const char* cols = std::getenv("COLUMNS")) {
        int c = std::atoi(cols);
        if (c >= 20 && c <= 1000) f.columns = c;
    }
    return f;
}

bool may_prompt(const terminal_facts& facts, bool non_interactive) noexcept {
    return facts.stdin_tty && !facts.ci && !non_interactive;
}

result<secret> prompt_secret(const std::string& question) {
    std::fputs(question.c_str(), stderr);
    std::fflush(stderr);
    termios saved{};
    bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        termios silent = saved;
        silent.c_lflag &= static_cast<tcflag_t>(~ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
    }
    std::string line;
    int c = 0;
    {
        // Ctrl-C here is an interruption like anywhere else (130), not a missing password.
        io::interrupt_catcher catcher;
        while (io::latched_interrupt() == 0 && (c = std::fgetc(stdin)) != EOF && c != '\n')
            line.push_back(static_cast<char>(c));
    }
    if (restore) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fputc('\n', stderr);
    if (int signal_number = io::latched_interrupt()) {
        secret{std::move(line)};  // wiped: half a password is still a secret
        return io::interrupted_failure(signal_number, " at the password prompt");
    }
    if (c == EOF && line.empty())
        return make_failure(errc::password_unavailable, "no password was typed (end of input)",
                            "set OTAFLASH_PASSWORD or use --password-file");
    return secret{std::move(line)};
}

}  // namespace otaflash::cli
