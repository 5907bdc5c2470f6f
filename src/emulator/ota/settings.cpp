#include "emulator/ota/settings.hpp"

#include "emulator/ota/listener.hpp"

#include <otaflash/io/secret_file.hpp>

#include <charconv>
#include <cstdlib>
#include <limits>

namespace otaflash::emulator::ota {
namespace {

failure bad_value(std::string_view key, std::string_view value, std::string_view wanted) {
    return make_failure(errc::usage_error, std::string(key) + "=" + std::string(value) + ": not " + std::string(wanted),
                        "write it as " + std::string(key) + "=N with N " + std::string(wanted));
}

template <class Number>
result<void> set_number(Number& field, std::string_view key, std::string_view value, std::string_view wanted) {
    std::uint64_t n = 0;
    const auto* end = value.data() + value.size();
    auto [ptr, ec] = std::from_chars(value.data(), end, n);
    if (value.empty() || ec != std::errc{} || ptr != end || n > std::numeric_limits<Number>::max())
        return bad_value(key, value, wanted);
    field = static_cast<Number>(n);
    return {};
}

result<std::optional<secret>> read_password(const password_source& source, device_kind kind, const std::string& hash_name) {
    using origin = password_source::origin;
    std::optional<stored_hash> hash;
    if (hash_name == "md5") hash = stored_hash::md5;
    else if (hash_name == "sha256") hash = stored_hash::sha256;
    else if (!hash_name.empty())
        return make_failure(errc::usage_error, "unknown stored-hash '" + hash_name + "'", "use md5 or sha256");

    std::optional<secret> password;
    switch (source.from) {
    case origin::none: return std::optional<secret>{};
    case origin::hash_file: {
        if (hash)
            return make_failure(errc::usage_error, "stored-hash applies to a password, not to password-hash-file",
                                "the hash file is stored verbatim; drop stored-hash");
        auto stored = read_secret_file(source.name, "password-hash-file");
        if (!stored) return std::move(stored).error();
        return std::optional<secret>{std::move(*stored)};
    }
    case origin::file: {
        auto line = read_secret_file(source.name, "password-file");
        if (!line) return std::move(line).error();
        password = std::move(*line);
        break;
    }
    case origin::environment:
        if (const char* env = std::getenv(source.name.c_str()); env && *env) {
            password = secret(env);
        } else if (source.named_by_user) {
            return make_failure(errc::usage_error, "password-env " + source.name + " is not set (or empty)",
                                "export " + source.name + " with the device password, or choose another variable");
        }
        break;
    }
    if (!password) return std::optional<secret>{};
    return std::optional<secret>{stored_password(password->reveal(), hash.value_or(traits(kind).default_stored_hash))};
}

}  // namespace

std::string_view setting_names() noexcept {
    return "kind, bind, port, password-env, password-file, password-hash-file, no-password, stored-hash, out, "
           "hostname, board, flash-size, loop-ms, flash-rate, ack-latency, recv-buffer, fault, time-scale";
}

result<void> apply_setting(device_settings& s, std::string_view key, std::string_view value) {
    using origin = password_source::origin;
    auto text = [&](std::string& field) -> result<void> {
        if (value.empty())
            return make_failure(errc::usage_error, std::string(key) + " needs a value",
                                "write it as " + std::string(key) + "=VALUE");
        field = std::string(value);
        return {};
    };
    auto source = [&](origin from) -> result<void> {
        if (value.empty())
            return make_failure(errc::usage_error, std::string(key) + " needs a value",
                                "write it as " + std::string(key) + "=" + (from == origin::environment ? "VAR" : "FILE"));
        s.password = password_source{from, std::string(value), true};
        return {};
    };

    if (key == "kind") return text(s.kind);
    if (key == "bind") return text(s.bind);
    if (key == "port") {
        std::uint16_t port = 0;
        if (auto set = set_number(port, key, value, "a port number (0-65535)"); !set) return set;
        s.port = port;
        return {};
    }
    if (key == "password-env") return source(origin::environment);
    if (key == "password-file") return source(origin::file);
    if (key == "password-hash-file") return source(origin::hash_file);
    if (key == "no-password") {
        if (!value.empty())
            return make_failure(errc::usage_error, "no-password takes no value", "write just no-password");
        s.password = password_source{origin::none, {}, true};
        return {};
    }
    if (key == "password")
        return make_failure(errc::usage_error, "a password is never given on the command line",
                            "use password-env=VAR (a variable holding it) or password-file=FILE");
    if (key == "stored-hash") return text(s.stored_hash);
    if (key == "out") return text(s.out);
    if (key == "hostname") return text(s.hostname);
    if (key == "board") return text(s.board);
    if (key == "flash-size") return set_number(s.flash_size, key, value, "a whole number of bytes");
    if (key == "loop-ms") return set_number(s.loop_ms, key, value, "a whole number of milliseconds");
    if (key == "flash-rate") return set_number(s.flash_rate, key, value, "a whole number of bytes per second");
    if (key == "ack-latency") return set_number(s.ack_latency_ms, key, value, "a whole number of milliseconds");
    if (key == "recv-buffer") return set_number(s.recv_buffer, key, value, "a whole number of bytes");
    if (key == "fault") {
        if (value == "none") s.faults.clear();
        else s.faults.emplace_back(value);
        return {};
    }
    if (key == "time-scale") {
        double f = 0;
        const auto* end = value.data() + value.size();
        auto [ptr, ec] = std::from_chars(value.data(), end, f);
        if (value.empty() || ec != std::errc{} || ptr != end) return bad_value(key, value, "a number such as 0.1");
        s.time_scale = f;
        return {};
    }
    return make_failure(errc::usage_error, "unknown setting '" + std::string(key) + "'",
                        "use count or one of: " + std::string(setting_names()));
}

result<device_config> resolve(const device_settings& s) {
    device_config config;
    auto kind = kind_from_name(s.kind);
    if (!kind)
        return make_failure(errc::usage_error, "unknown kind '" + s.kind + "'",
                            "use one of esp8266, esp32, esp32-legacy, rp2040");
    config.kind = *kind;
    config.bind_address = s.bind;
    config.port = s.port;

    auto password = read_password(s.password, *kind, s.stored_hash);
    if (!password) return std::move(password).error();
    config.password = std::move(*password);

    config.out_file = s.out;
    config.hostname = s.hostname;
    config.board = s.board;
    if (s.flash_size == 0)
        return make_failure(errc::usage_error, "flash-size must be more than 0", "give the update space in bytes");
    config.flash_size = s.flash_size;
    if (s.loop_ms == 0) return make_failure(errc::usage_error, "loop-ms must be at least 1", "the default is 5");
    config.loop_period = std::chrono::milliseconds(s.loop_ms);
    config.flash_rate = s.flash_rate;
    config.ack_latency = std::chrono::milliseconds(s.ack_latency_ms);
    config.recv_buffer = s.recv_buffer;
    for (const auto& f : s.faults)
        if (auto added = add_fault(config.faults, f); !added) return std::move(added).error();
    if (config.faults.reject_auth && !config.password)
        return make_failure(errc::usage_error, "fault reject-auth needs a device password",
                            std::string("set ") + default_password_env + ", or give password-env=VAR or password-file=FILE");
    if (!(s.time_scale > 0.0))
        return make_failure(errc::usage_error, "time-scale must be more than 0", "1 is real time");
    config.time_scale = s.time_scale;
    return config;
}

}  // namespace otaflash::emulator::ota
