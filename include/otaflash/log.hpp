#pragma once
// Diagnostics from the io layer and the emulators go through this interface; the CLI binds it to
// spdlog. Callers never pass secrets here.

#include <cstdint>
#include <string_view>

namespace otaflash {

enum class log_level : std::uint8_t { trace, debug, info, warn, error };

class log_sink {
public:
    virtual ~log_sink() = default;
    virtual bool enabled(log_level) const { return false; }
    virtual void write(log_level, std::string_view /*message*/) {}
};

inline log_sink& null_log() {
    static log_sink sink;
    return sink;
}

}  // namespace otaflash
