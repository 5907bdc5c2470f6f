#include "server/http/tls_context.hpp"

#include <otaflash/io/file.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/ssl.h>

namespace otaflash::server::http {

namespace ssl = boost::asio::ssl;

namespace {
failure key_mismatch(const tls_files& files) {
    return make_failure(errc::file_unreadable, "TLS key " + files.key + " does not belong to the certificate " + files.certificate,
                        "give the key the certificate was made for");
}
}  // namespace

result<std::unique_ptr<ssl::context>> make_tls_context(const tls_files& files) {
    auto certificate = read_file(files.certificate, false, 1 << 20);
    if (!certificate)
        return make_failure(certificate.error().code, "TLS certificate: " + certificate.error().message,
                            "give --tls-cert a PEM certificate file (the chain, server first)");
    auto key = read_file(files.key, false, 1 << 20);
    if (!key)
        return make_failure(key.error().code, "TLS key: " + key.error().message, "give --tls-key the PEM private key");
    auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    // Idle connections keep no buffers: a thousand of them must not cost a thousand × 34 KiB.
    SSL_CTX_set_mode(context->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    boost::system::error_code ec;
    context->use_certificate_chain(boost::asio::buffer(certificate->data(), certificate->size()), ec);
    if (ec)
        return make_failure(errc::file_unreadable, "TLS certificate " + files.certificate + " is not usable: " + ec.message(),
                            "give --tls-cert a PEM certificate (openssl x509 -in FILE -noout checks it)");
    context->use_private_key(boost::asio::buffer(key->data(), key->size()), ssl::context::pem, ec);
    OPENSSL_cleanse(key->data(), key->size());
    if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
        return key_mismatch(files);
    if (ec)
        return make_failure(errc::file_unreadable, "TLS key " + files.key + " is not usable: " + ec.message(),
                            "give --tls-key an unencrypted PEM private key");
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) return key_mismatch(files);
    return context;
}

}  // namespace otaflash::server::http
