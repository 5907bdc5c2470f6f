#pragma once
// The server's TLS context from PEM files: TLS 1.2 or newer, the certificate chain and its key
// checked against each other before anything listens.

#include <otaflash/result.hpp>
#include <otaflash/server/http/http_backend.hpp>

#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace otaflash::server::http {

result<std::unique_ptr<boost::asio::ssl::context>> make_tls_context(const tls_files& files);

}  // namespace otaflash::server::http
