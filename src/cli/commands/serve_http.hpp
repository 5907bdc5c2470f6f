#pragma once
// The HTTP/HTTPS options of `otaflash serve` and the backend they describe (server/http).

#include <otaflash/result.hpp>
#include <otaflash/serve/backend.hpp>
#include <otaflash/server/http/http_backend.hpp>

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace otaflash::cli {

struct http_serve_options {
    std::vector<std::string> listen;
    std::string tls_cert, tls_key;
    std::string fota_type;
    std::string device_user, device_password_file, device_token_file;
    std::string idle_timeout = "10s";
};

void add_http_options(CLI::App& serve, http_serve_options& options);

// `--listen [http://|https://]ADDR:PORT`: no scheme means https when a certificate is given.
result<server::http::listen_spec> parse_listen(const std::string& text, bool tls_by_default);

// Checks the options, reads the device secrets (files, OTAFLASH_DEVICE_PASSWORD,
// OTAFLASH_DEVICE_TOKEN) and builds the backend.
result<std::unique_ptr<serve::backend>> make_http(const http_serve_options& options);

}  // namespace otaflash::cli
