#pragma once
// One registration function per subcommand.

namespace CLI {
class App;
}

namespace otaflash::cli {
class app_context;


}  // namespace otaflash::cli
