// `otaflash completion bash|zsh|fish`: the shell's completion script on stdout, generated from
// the command tree, so that every command and option (and the values an option allows) completes.

#include "cli/app.hpp"
#include "cli/commands/commands.hpp"
#include "cli/completion.hpp"

#include <CLI/CLI.hpp>

#include <iterator>
#include <memory>

namespace otaflash::cli {

void register_completion(CLI::App& app, app_context& ctx) {
    auto* sub = app.add_subcommand("completion", "Print the shell completion script for bash, zsh or fish");
    auto shell = std::make_shared<std::string>();
    sub->add_option("SHELL", *shell, "bash, zsh or fish")
        ->required()
        ->check(CLI::IsMember(std::vector<std::string>(std::begin(completion_shells), std::end(completion_shells))));
    sub->footer(
        "Installed with otaflash (cmake --install) where each shell looks for completions; to load it by hand:\n"
        "  bash: source <(otaflash completion bash)          (or save it as ~/.local/share/bash-completion/completions/otaflash)\n"
        "  zsh:  otaflash completion zsh > ~/.zfunc/_otaflash   (with fpath+=~/.zfunc before compinit)\n"
        "  fish: otaflash completion fish > ~/.config/fish/completions/otaflash.fish\n"
        "Exit status: 0, or 2 for a shell it does not know.");
    CLI::App* root = &app;
    ctx.on_run(sub, [root, shell](app_context& c) {
        const std::string script = completion_script(describe_for_completion(*root), *shell);
        reporter& out = c.report();
        if (!out.json()) std::fputs(script.c_str(), stdout);
        return out.succeed("completion", {{"shell", *shell}, {"script", script}});
    });
}

}  // namespace otaflash::cli
