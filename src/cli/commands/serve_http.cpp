#include "cli/commands/serve_http.hpp"

#include "cli/duration.hpp"

#include <otaflash/io/secret_file.hpp>

#include <CLI/CLI.hpp>

#include <charconv>

namespace otaflash::cli {
namespace {

constexpr const char* default_listen = "0.0.0.0:8070";

// A device secret: the first line of `file` when given, else the environment variable.
result<secret> device_secret(const std::string& file, const char* variable, std::string_view option) {
    return secret_from_file_or_env(file.empty() ? std::nullopt : std::optional<std::string>(file), variable, option);
}

}  // namespace

result<server::http::listen_spec> parse_listen(const std::string& text, bool tls_by_default) {
    server::http::listen_spec spec;
    std::string_view rest = text;
    spec.tls = tls_by_default;
    if (rest.starts_with("http://")) spec.tls = false, rest.remove_prefix(7);
    else if (rest.starts_with("https://")) spec.tls = true, rest.remove_prefix(8);
    if (rest.ends_with("/")) rest.remove_suffix(1);
    const auto colon = rest.rfind(':');
    auto bad = [&] {
        return make_failure(errc::usage_error, "--listen: '" + text + "' is not ADDR:PORT",
                            "e.g. --listen 0.0.0.0:8070, --listen [::]:8443, --listen https://127.0.0.1:0");
    };
    if (colon == std::string_view::npos || colon == 0) return bad();
    auto address = rest.substr(0, colon), port_text = rest.substr(colon + 1);
    if (address.starts_with('[')) {
        if (!address.ends_with(']') || address.size() < 3) return bad();
        address = address.substr(1, address.size() - 2);
    } else if (address.find(':') != std::string_view::npos) {
        return bad();  // an IPv6 address needs brackets
    }
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) return bad();
    spec.address = std::string(address);
    spec.port = static_cast<std::uint16_t>(port);
    return spec;
}

void add_http_options(CLI::App& serve, http_serve_options& o) {
    const char* group = "HTTP and HTTPS";
    serve.add_option("--listen", o.listen,
                     "[http://|https://]ADDR:PORT to serve on (repeatable; port 0 = any free port). Without a "
                     "scheme: https when --tls-cert is given, else http")
        ->default_str(default_listen)
        ->group(group);
    serve.add_option("--tls-cert", o.tls_cert, "PEM certificate (chain) for https listeners (TLS 1.2 or newer)")->group(group);
    serve.add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert")->group(group);
    serve.add_option("--type", o.fota_type, "esp32FOTA manifest.json \"type\" (default: the release's title)")->group(group);
    serve.add_option("--device-user", o.device_user,
                     "Devices must send HTTP Basic credentials with this user; the password comes from "
                     "--device-password-file or OTAFLASH_DEVICE_PASSWORD")
        ->group(group);
    serve.add_option("--device-password-file", o.device_password_file, "File whose first line is the devices' Basic password")
        ->group(group);
    serve.add_option("--device-token-file", o.device_token_file,
                     "File whose first line is a bearer token devices may send instead (or OTAFLASH_DEVICE_TOKEN)")
        ->group(group);
    serve.add_option("--idle-timeout", o.idle_timeout,
                     "A connection must send its request head within this, and a transfer that makes no "
                     "progress this long is cut")
        ->default_str("10s")
        ->group(group);
}

result<std::unique_ptr<serve::backend>> make_http(const http_serve_options& o) {
    server::http::settings s;
    if (o.tls_cert.empty() != o.tls_key.empty())
        return make_failure(errc::usage_error, o.tls_cert.empty() ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key",
                            "give both the certificate and its private key");
    const bool tls = !o.tls_cert.empty();
    if (tls) s.tls = server::http::tls_files{o.tls_cert, o.tls_key};
    for (const auto& text : o.listen.empty() ? std::vector<std::string>{default_listen} : o.listen) {
        auto spec = parse_listen(text, tls);
        if (!spec) return std::move(spec).error();
        s.listeners.push_back(*spec);
    }
    auto idle = parse_duration(o.idle_timeout, "--idle-timeout", std::chrono::milliseconds(100));
    if (!idle) return std::move(idle).error();
    s.idle_timeout = *idle;
    if (!o.fota_type.empty()) s.decision.fota_type = o.fota_type;
    if (!o.device_user.empty() || !o.device_password_file.empty()) {
        if (o.device_user.empty())
            return make_failure(errc::usage_error, "--device-password-file needs --device-user",
                                "give the user name devices send with the password");
        auto password = device_secret(o.device_password_file, "OTAFLASH_DEVICE_PASSWORD", "--device-password-file");
        if (!password) return std::move(password).error();
        if (password->empty())
            return make_failure(errc::password_unavailable, "--device-user needs a password",
                                "put it in OTAFLASH_DEVICE_PASSWORD or the first line of --device-password-file");
        s.credentials.user = o.device_user;
        s.credentials.password = std::move(*password);
    }
    auto token = device_secret(o.device_token_file, "OTAFLASH_DEVICE_TOKEN", "--device-token-file");
    if (!token) return std::move(token).error();
    s.credentials.token = std::move(*token);
    return server::http::make_http_backend(std::move(s));
}

}  // namespace otaflash::cli
