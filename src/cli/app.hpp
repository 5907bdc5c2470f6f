#pragma once
// The command tree. Each subcommand lives in src/cli/commands/<name>.cpp and registers itself
// with one function; `run` parses argv, sets up logging and output, and dispatches.

#include "cli/environment.hpp"
#include "cli/logging.hpp"
#include "cli/output.hpp"
#include "cli/progress_render.hpp"
#include "cli/terminal.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace otaflash::cli {

struct global_options {
    logging_options logging;
    bool json = false;
    std::string progress = "auto";
    bool non_interactive = false;
};

class app_context;
using command_fn = std::function<int(app_context&)>;

class app_context {
public:
    explicit app_context(terminal_facts terminal) : terminal_(terminal) {}

    global_options global;

    const terminal_facts& terminal() const noexcept { return terminal_; }
    reporter& report() { return *reporter_; }
    // Under --non-interactive, CI, or without a terminal on stdin, nothing may prompt.
    bool may_prompt() const noexcept { return cli::may_prompt(terminal_, global.non_interactive); }
    // `label` prefixes every line. `one_of_many`: other devices report at the same time, so a bar
    // (one line redrawn in place) becomes plain lines.
    std::unique_ptr<progress_sink> progress(std::string label = {}, bool one_of_many = false) const;

    // Called by the register_* functions: what to run when `sub` was chosen.
    void on_run(CLI::App* sub, command_fn fn) { commands_[sub] = std::move(fn); }

    // Used by run(): not for commands. `from_env`: settings a usage error may be about.
    void start_output(std::vector<env_setting> from_env = {}) {
        reporter_ = std::make_unique<reporter>(global.json ? output_format::json : output_format::text);
        reporter_->blame_environment_for(std::move(from_env));
    }
    const command_fn* find(CLI::App* sub) const;

private:
    terminal_facts terminal_;
    std::unique_ptr<reporter> reporter_;
    std::map<CLI::App*, command_fn> commands_;
};

int run(int argc, char** argv);

}  // namespace otaflash::cli
