#pragma once
// One registration function per subcommand.

namespace CLI {
class App;
}

namespace otaflash::cli {
class app_context;

void register_discover(CLI::App& app, app_context& ctx);
void register_info(CLI::App& app, app_context& ctx);
void register_verify(CLI::App& app, app_context& ctx);
void register_serial(CLI::App& app, app_context& ctx);
void register_push(CLI::App& app, app_context& ctx);
void register_espota(CLI::App& app, app_context& ctx);
void register_serve(CLI::App& app, app_context& ctx);
void register_publish(CLI::App& app, app_context& ctx);
void register_completion(CLI::App& app, app_context& ctx);

}  // namespace otaflash::cli
