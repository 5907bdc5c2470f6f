// `otaflash serve` over HTTPS: a key and a self-signed certificate made at test time (openssl),
// plain and TLS listeners side by side, TLS 1.2 as the floor, garbage on the TLS port, and the
// certificate errors that stop a start.

#include "serve_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>
#include <openssl/ssl.h>

using namespace otaflash;
using namespace otaflash::test;
using namespace std::chrono_literals;

namespace {
tls_options verified(const std::string& ca_file) {
    tls_options o;
    o.ca_file = ca_file;
    return o;
}
tls_options at_most(int version) {
    tls_options o;
    o.max_version = version;
    return o;
}
}  // namespace

struct ServeTls : ::testing::Test {
    temp_dir dir;
    bytes image = esp32_image(300 * 1024);
    std::string file = dir.write("app.bin", image);
    std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");

    void SetUp() override {
        auto made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                 "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                                 "-addext", "subjectAltName=IP:127.0.0.1"});
        ASSERT_EQ(made.exit_code, 0) << made.err;
    }
};

TEST_F(ServeTls, PlainAndTlsListenersSideBySide) {
    serve_process s({file, "--listen", "http://127.0.0.1:0", "--listen", "https://127.0.0.1:0", "--tls-cert", cert,
                     "--tls-key", key});
    ASSERT_TRUE(s.port() && s.tls_port()) << s.first_line();
    EXPECT_EQ(s.first_line(), "listening on http://127.0.0.1:" + std::to_string(s.port()) + "/ https://127.0.0.1:" +
                                  std::to_string(s.tls_port()) + "/");
    const std::string request = request_text("GET", "/firmware.bin", s.tls_port(),
                                             {{"x-ESP32-STA-MAC", "24:0A:C4:00:00:01"}, {"x-ESP32-version", "1.0.0"}});
    auto secure = https_exchange(s.tls_port(), request, verified(cert));  // verified against the certificate
    ASSERT_TRUE(secure);
    EXPECT_EQ(secure->status, 200);
    EXPECT_EQ(secure->header("Content-Length"), std::to_string(image.size()));
    EXPECT_EQ(md5_hex(secure->body), to_hex(md5(image)));
    auto line = s.wait_line("24:0A:C4:00:00:01 https delivered");
    EXPECT_TRUE(line);
    auto plain = http_get(s.port(), "/version");
    EXPECT_EQ(plain->body, "2.4.0");
    auto manifest = https_exchange(s.tls_port(), request_text("GET", "/manifest.json", s.tls_port()));
    ASSERT_TRUE(manifest);
    EXPECT_NE(manifest->body.find("\"url\":\"https://127.0.0.1:" + std::to_string(s.tls_port()) + "/firmware/"),
              std::string::npos)
        << manifest->body;
}

TEST_F(ServeTls, ListenWithoutSchemeIsTlsWhenACertificateIsGiven) {
    serve_process s({file, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key});
    ASSERT_TRUE(s.tls_port()) << s.first_line();
    EXPECT_EQ(s.port(), 0);
    auto r = https_exchange(s.tls_port(), request_text("GET", "/version", s.tls_port()));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "2.4.0");
}

TEST_F(ServeTls, OlderThanTls12AndGarbageAreRefusedAndLogged) {
    serve_process s({file, "--listen", "https://127.0.0.1:0", "--tls-cert", cert, "--tls-key", key});
    ASSERT_TRUE(s.tls_port()) << s.first_line();
    EXPECT_FALSE(https_exchange(s.tls_port(), request_text("GET", "/version", s.tls_port()), at_most(TLS1_1_VERSION)));
    EXPECT_TRUE(s.wait_line("https refused: TLS handshake failed"));
    // Plain HTTP and random bytes on the TLS port: no HTTP answer, a line each, and serving goes on.
    EXPECT_FALSE(http_exchange(s.tls_port(), request_text("GET", "/version", s.tls_port()), 3s));
    EXPECT_FALSE(http_exchange(s.tls_port(), std::string(3000, '\x17'), 3s));
    EXPECT_TRUE(s.wait_line("https refused: TLS handshake failed"));
    auto r = https_exchange(s.tls_port(), request_text("GET", "/version", s.tls_port()), at_most(TLS1_2_VERSION));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "2.4.0");
}

TEST_F(ServeTls, CertificateProblemsStopTheStart) {
    auto missing = run_otaflash({"serve", file, "--listen", "127.0.0.1:0", "--tls-cert", dir.file("none.pem"), "--tls-key", key});
    EXPECT_EQ(missing.exit_code, 4);
    EXPECT_NE(missing.err.find("none.pem"), std::string::npos) << missing.err;
    EXPECT_EQ(missing.out, "");
    auto other_key = dir.file("other.pem");
    ASSERT_EQ(run_process({"/usr/bin/openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", other_key})
                  .exit_code,
              0);
    auto mismatch = run_otaflash({"serve", file, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", other_key});
    EXPECT_EQ(mismatch.exit_code, 4);
    EXPECT_NE(mismatch.err.find("does not belong to the certificate"), std::string::npos) << mismatch.err;
    auto not_pem = run_otaflash({"serve", file, "--listen", "127.0.0.1:0", "--tls-cert", file, "--tls-key", key});
    EXPECT_EQ(not_pem.exit_code, 4);
    EXPECT_NE(not_pem.err.find("is not usable"), std::string::npos) << not_pem.err;
    auto half = run_otaflash({"serve", file, "--listen", "127.0.0.1:0", "--tls-cert", cert});
    EXPECT_EQ(half.exit_code, 2);
    EXPECT_NE(half.err.find("--tls-cert needs --tls-key"), std::string::npos) << half.err;
    auto no_cert = run_otaflash({"serve", file, "--listen", "https://127.0.0.1:0"});
    EXPECT_EQ(no_cert.exit_code, 2);
}
