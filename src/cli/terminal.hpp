#pragma once
// What kind of terminal (if any) we talk to. Read once at start-up from the real environment;
// tests build a `terminal_facts` by hand.

#include <otaflash/result.hpp>
#include <otaflash/crypto/secret.hpp>

#include <string>

namespace otaflash::cli {

struct terminal_facts {
    bool stdin_tty = false;
    bool stderr_tty = false;
    bool ci = false;        // CI is set to anything but "" / "0" / "false"
    bool dumb = false;      // TERM=dumb
    bool no_color = false;  // NO_COLOR is set
    int columns = 80;
};

terminal_facts read_terminal_facts();

// True when otaflash may ask the person at the keyboard something.
bool may_prompt(const terminal_facts& facts, bool non_interactive) noexcept;

// Reads one line from the terminal without echo (restoring the terminal even on failure).
result<secret> prompt_secret(const std::string& question);

}  // namespace otaflash::cli
