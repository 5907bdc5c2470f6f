// otaflash-pull-device against the real `otaflash serve` on loopback, one client kind after
// another: updates byte for byte, 304s, 403s with their reasons, spiffs, a download cut and
// resumed (and counted once by serve), HTTPS with a certificate made at test time, a fleet that
// ends `serve --expect`.

#include "ota_host.hpp"
#include "pull_device_run.hpp"
#include "serve_harness.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/util/hex.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <sstream>
#include <thread>

using namespace otaflash;
using namespace otaflash::test;
using json = nlohmann::json;

namespace {

std::string url(const serve_process& s, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

// serve --json's last line after a stop: the summary.
json summary_of(serve_process& s) {
    s.stop(SIGINT);
    for (auto it = s.lines().rbegin(); it != s.lines().rend(); ++it) {
        auto j = json::parse(*it, nullptr, false);
        if (!j.is_discarded() && j.value("event", "") == "summary") return j;
    }
    return nullptr;
}

// An HTTP server that answers each connection, in turn, with the next canned answer, and keeps
// what each request said. For answers `otaflash serve` never gives.
class canned_server {
public:
    explicit canned_server(std::vector<std::string> answers)
        : answers_(std::move(answers)), thread_([this] { serve(); }) {}
    ~canned_server() {
        if (thread_.joinable()) thread_.join();
    }
    std::uint16_t port() const { return server_.port(); }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }
    // The requests received: waits until every answer was given (or an accept timed out).
    const std::vector<std::string>& requests() {
        if (thread_.joinable()) thread_.join();
        return requests_;
    }

private:
    void serve() {
        for (const auto& answer : answers_) {
            auto conn = server_.accept(std::chrono::seconds(10));
            if (!conn) return;
            std::string request;
            while (request.find("\r\n\r\n") == std::string::npos) {
                auto piece = conn->receive(std::chrono::seconds(5));
                if (piece.bytes.empty()) break;
                request += piece.bytes;
            }
            requests_.push_back(request);
            conn->send(answer);
        }
    }
    tcp_server server_;
    std::vector<std::string> answers_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

std::string answer(const std::string& head, const bytes& body) {
    return head + "\r\n\r\n" + std::string(body.begin(), body.end());
}

}  // namespace

struct PullDevice : ::testing::Test {
    temp_dir dir;
    bytes image8266 = esp8266_image();
    bytes image32 = esp32_image(200 * 1024);
    std::string file8266 = dir.write("blink.bin", image8266);
    std::string file32 = dir.write("sensor.bin", image32);

    void expect_file(const std::string& path, const bytes& want) {
        const bytes got = slurp(path);
        EXPECT_EQ(got.size(), want.size()) << path;
        EXPECT_TRUE(got == want) << path << " differs from the served image";
    }
};

TEST_F(PullDevice, Esp8266HttpUpdateAppliesTheImageThen304ByVersionAndByMd5) {
    serve_process s({file8266, "--version", "2.4.0"});
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::string got = dir.file("got.bin");
    auto run = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--version", "2.3.0", "--mac",
                     "18:FE:34:00:00:01", "--out", got});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    auto result = run.result();
    ASSERT_TRUE(result.is_object()) << run.r.out;
    EXPECT_EQ(result["outcome"], "updated");
    EXPECT_EQ(result["md5"], to_hex(md5(image8266)));
    EXPECT_EQ(result["bytes"], image8266.size());
    EXPECT_EQ(result["file"], got);
    expect_file(got, image8266);
    ASSERT_EQ(run.requests().size(), 1u);
    EXPECT_EQ(run.requests()[0]["status"], 200);
    EXPECT_EQ(run.requests()[0]["range"], nullptr);  // the Arduino clients never send Range
    // serve saw the device by the headers it sent.
    auto line = s.wait_line("18:FE:34:00:00:01 http delivered GET /firmware.bin chip=esp8266 runs=2.3.0 offered=2.4.0: 200");
    EXPECT_TRUE(line);

    auto same_version = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--version", "2.4.0"});
    EXPECT_EQ(same_version.r.exit_code, 0) << same_version.r.err;
    EXPECT_EQ(same_version.result()["outcome"], "no_update");
    EXPECT_EQ(same_version.result()["detail"], "no update");
    EXPECT_EQ(same_version.requests()[0]["status"], 304);

    auto same_md5 = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--version", "1.0.0",
                          "--sketch-md5", to_hex(md5(image8266))});
    EXPECT_EQ(same_md5.r.exit_code, 0) << same_md5.r.err;
    EXPECT_EQ(same_md5.result()["outcome"], "no_update");
    EXPECT_EQ(same_md5.requests()[0]["status"], 304);
}

TEST_F(PullDevice, Esp32HttpUpdateIsRefusedWithTheReasonForTheWrongChipAndTooLittleSpace) {
    serve_process s({file8266, "--version", "2.4.0"});
    ASSERT_TRUE(s.started()) << s.first_line();
    auto wrong_chip = pull({"--kind", "esp32-httpupdate", "--url", url(s, "/firmware.bin")});
    EXPECT_EQ(wrong_chip.r.exit_code, 11) << wrong_chip.r.err;
    auto r = wrong_chip.result();
    EXPECT_EQ(r["outcome"], "error");
    EXPECT_EQ(r["code"], "device_refused");
    EXPECT_EQ(r["detail"], "Forbidden (403)");
    EXPECT_EQ(r["reason"], "the image is for esp8266, the device is an esp32");

    auto no_room = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--free-space", "100"});
    EXPECT_EQ(no_room.r.exit_code, 11);
    EXPECT_EQ(no_room.result()["reason"],
              "the image is " + std::to_string(image8266.size()) + " bytes, the device has 100 bytes free");
}

TEST_F(PullDevice, Esp32HttpUpdateAppliesAnEsp32Image) {
    serve_process s({file32});
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::string got = dir.file("got32.bin");
    auto run = pull({"--kind", "esp32-httpupdate", "--url", url(s, "/firmware.bin"), "--out", got});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    EXPECT_EQ(run.result()["outcome"], "updated");
    expect_file(got, image32);
    auto nowhere = pull({"--kind", "esp32-httpupdate", "--url", url(s, "/firmware.bin"), "--out", dir.file("no/such/dir.bin")});
    EXPECT_EQ(nowhere.r.exit_code, 9) << nowhere.r.out;
    EXPECT_EQ(nowhere.result()["code"], "write_failed");
}

TEST_F(PullDevice, SpiffsModeFetchesTheFilesystemImage) {
    const bytes fs = random_bytes(48 * 1024, 9);
    const std::string fs_file = dir.write("fs.bin", fs);
    serve_process s({file8266, "--version", "2.4.0", "--fs", fs_file});
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::string got = dir.file("fs-got.bin");
    auto run = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--mode", "spiffs", "--out", got});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    EXPECT_EQ(run.result()["md5"], to_hex(md5(fs)));
    expect_file(got, fs);
    // A filesystem partition smaller than the image: the device stops after the headers.
    auto small = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--mode", "spiffs", "--fs-size", "4096"});
    EXPECT_EQ(small.r.exit_code, 8);
    EXPECT_EQ(small.result()["detail"], "Not Enough space (" + std::to_string(fs.size()) + " > 4096)");
    EXPECT_EQ(small.requests()[0]["bytes"], 0);
}

TEST_F(PullDevice, Esp32FotaReadsTheManifestAndFetchesItsUrlOnlyWhenNewer) {
    serve_process s({file32});
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::string got = dir.file("fota.bin");
    auto run = pull({"--kind", "esp32fota", "--url", url(s, "/manifest.json"), "--version", "2.3.9", "--out", got});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    EXPECT_EQ(run.result()["outcome"], "updated");
    EXPECT_EQ(run.result()["offered"], "2.4.0");
    ASSERT_EQ(run.requests().size(), 2u);
    EXPECT_EQ(run.requests()[0]["url"], url(s, "/manifest.json"));
    EXPECT_TRUE(run.requests()[1]["url"].get<std::string>().starts_with(url(s, "/firmware/"))) << run.requests()[1];
    expect_file(got, image32);

    auto current = pull({"--kind", "esp32fota", "--url", url(s, "/manifest.json"), "--version", "2.4.0"});
    EXPECT_EQ(current.r.exit_code, 0);
    EXPECT_EQ(current.result()["outcome"], "no_update");
    EXPECT_EQ(current.requests().size(), 1u);  // the manifest only
}

TEST_F(PullDevice, RawClientComparesVersionTextAndFetchesFirmwareBin) {
    serve_process s({file32});
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::string got = dir.file("raw.bin");
    auto run = pull({"--kind", "raw", "--url", url(s, "/"), "--version", "2.5.0", "--out", got});  // different: update
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    EXPECT_EQ(run.result()["outcome"], "updated");
    ASSERT_EQ(run.requests().size(), 2u);
    EXPECT_EQ(run.requests()[1]["url"], url(s, "/firmware.bin"));
    expect_file(got, image32);
    auto same = pull({"--kind", "raw", "--url", url(s, ""), "--version", "2.4.0"});
    EXPECT_EQ(same.result()["outcome"], "no_update");
    EXPECT_EQ(same.result()["detail"], "/version says 2.4.0, the same");
}

// A cut download resumes where it broke (Range + If-Range) and ends byte-identical; serve counts
// one complete download, not two. The image is larger than what the kernel buffers hold with the
// device's small receive window, so the cut really leaves bytes unsent.
TEST_F(PullDevice, DroppedDownloadResumesWithRangeAndServeCountsItOnce) {
    const bytes big = esp32_image(1024 * 1024, "2.4.0", 5);
    const std::string big_file = dir.write("big.bin", big);
    for (const std::string kind : {"raw", "esp32fota"}) {
        SCOPED_TRACE(kind);
        serve_process s({"--json", big_file});
        ASSERT_TRUE(s.started()) << s.first_line();
        const std::string got = dir.file(kind + "-resumed.bin");
        const std::string where = kind == "raw" ? url(s, "/") : url(s, "/manifest.json");
        auto run = pull({"--kind", kind, "--url", where, "--version", "2.0.0", "--drop-after", "100000", "--rx-window", "16384",
                         "--out", got});
        expect_resumed_once(run, 100000, big.size());
        expect_file(got, big);
        auto summary = summary_of(s);
        ASSERT_TRUE(summary.is_object());
        EXPECT_EQ(summary["delivered"], 1) << summary;
    }
}

// The Arduino clients cannot resume: they download again from the first byte.
TEST_F(PullDevice, DroppedArduinoDownloadStartsOverWithoutRange) {
    const bytes big = esp32_image(1024 * 1024, "2.4.0", 6);
    serve_process s({"--json", dir.write("big.bin", big)});
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::string got = dir.file("again.bin");
    auto run = pull({"--kind", "esp32-httpupdate", "--url", url(s, "/firmware.bin"), "--drop-after", "100000", "--rx-window",
                     "16384", "--out", got});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    EXPECT_EQ(run.result()["resumed"], 0);
    auto requests = run.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0]["cut"], true);
    EXPECT_EQ(requests[1]["range"], nullptr);
    EXPECT_EQ(requests[1]["bytes"], big.size());
    expect_file(got, big);
    EXPECT_EQ(summary_of(s)["delivered"], 1);

    // Cut every time (one attempt allowed): the device gives up, exit 7.
    serve_process again({dir.file("big.bin")});
    auto gave_up = pull({"--kind", "esp32-httpupdate", "--url", url(again, "/firmware.bin"), "--drop-after", "1000",
                         "--attempts", "1"});
    EXPECT_EQ(gave_up.r.exit_code, 7);
    EXPECT_EQ(gave_up.result()["detail"], "connection lost after 1000 bytes, 1 downloads");
}

TEST_F(PullDevice, HttpsWithATestCertificateOnlyWhenTrusted) {
    const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
    auto made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                             "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                             "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    serve_process s({file32, "--listen", "https://127.0.0.1:0", "--tls-cert", cert, "--tls-key", key});
    ASSERT_TRUE(s.tls_port()) << s.first_line();
    const std::string base = "https://127.0.0.1:" + std::to_string(s.tls_port());
    const std::string got = dir.file("tls.bin");
    auto trusted = pull({"--kind", "esp32fota", "--url", base + "/manifest.json", "--ca-cert", cert, "--out", got});
    EXPECT_EQ(trusted.r.exit_code, 0) << trusted.r.err << trusted.r.out;
    EXPECT_EQ(trusted.result()["outcome"], "updated");
    expect_file(got, image32);
    EXPECT_TRUE(s.wait_line("https delivered"));

    auto untrusted = pull({"--kind", "raw", "--url", base});
    EXPECT_EQ(untrusted.r.exit_code, 7);
    EXPECT_NE(untrusted.result()["detail"].get<std::string>().find("TLS handshake failed"), std::string::npos) << untrusted.r.out;
    EXPECT_NE(untrusted.result()["detail"].get<std::string>().find("--ca-cert"), std::string::npos);

    auto insecure = pull({"--kind", "raw", "--url", base, "--insecure"});
    EXPECT_EQ(insecure.r.exit_code, 0) << insecure.r.out;
    EXPECT_EQ(insecure.result()["outcome"], "updated");
    // HTTP/1.0 over TLS, as HTTPUpdate with a WiFiClientSecure.
    auto arduino = pull({"--kind", "esp32-httpupdate", "--url", base + "/firmware.bin", "--ca-cert", cert, "--mac",
                         "24:0A:C4:00:00:42"});
    EXPECT_EQ(arduino.r.exit_code, 0) << arduino.r.out;
    EXPECT_EQ(arduino.result()["md5"], to_hex(md5(image32)));
    EXPECT_TRUE(s.wait_line("24:0A:C4:00:00:42 https delivered GET /firmware.bin"));
}

TEST_F(PullDevice, AFleetEndsServeExpectWithZero) {
    serve_process s({file8266, "--version", "2.4.0", "--expect", "18:FE:34:00:00:01", "--expect", "18:FE:34:00:00:02",
                     "--expect", "18:FE:34:00:00:03", "--expect", "18:FE:34:00:00:10", "--expect", "18:FE:34:00:00:11",
                     "--deadline", "30s"});
    ASSERT_TRUE(s.started()) << s.first_line();
    auto run = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--mac", "18:FE:34:00:00:01",
                     "--version", "2.3.0", "--count", "3", "--devices", "count=2,mac=18:FE:34:00:00:10,version=1.0.0",
                     "--out", dir.file("fleet-%d.bin")});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    int updated = 0;
    for (const auto& e : run.events) updated += e["event"] == "result" && e["outcome"] == "updated";
    EXPECT_EQ(updated, 5);
    for (int i = 0; i < 5; ++i) expect_file(dir.file("fleet-" + std::to_string(i) + ".bin"), image8266);
    EXPECT_TRUE(s.wait_line("served 5 requests, 5 complete downloads", std::chrono::seconds(10)));
    auto served = s.stop(0);
    EXPECT_EQ(served.exit_code, 0) << served.err;
}

TEST_F(PullDevice, UnauthorizedIsExit6AndMixedFailuresExit12) {
    process_options env;
    env.env["OTAFLASH_DEVICE_PASSWORD"] = "s3cret";
    serve_process s({file8266, "--version", "2.4.0", "--device-user", "ota"}, env);
    ASSERT_TRUE(s.started()) << s.first_line();
    auto run = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin")});
    EXPECT_EQ(run.r.exit_code, 6) << run.r.out;
    EXPECT_TRUE(run.result()["detail"].get<std::string>().starts_with("Unauthorized (401): ")) << run.result();
    EXPECT_EQ(run.result()["code"], "auth_failed");
    refused_port closed;
    auto mixed = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--devices",
                       "count=1,kind=raw,url=http://127.0.0.1:" + std::to_string(closed.port()) + "/"});
    EXPECT_EQ(mixed.r.exit_code, 12) << mixed.r.out;
}

// A server that accepts and never answers: the device gives up after --timeout, and a signal
// ends a wait at once.
TEST_F(PullDevice, EveryWaitHasADeadlineAndASignalEndsIt) {
    tcp_server silent;  // listens; connections complete in its backlog and hear nothing
    const std::string where = "http://127.0.0.1:" + std::to_string(silent.port()) + "/firmware.bin";
    const auto started = std::chrono::steady_clock::now();
    auto run = pull({"--kind", "esp32-httpupdate", "--url", where, "--timeout", "300"});
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(run.r.exit_code, 7) << run.r.out;
    EXPECT_EQ(run.result()["detail"], where + ": no answer: no progress for 300 ms");
    EXPECT_LT(took, std::chrono::seconds(5));
    ASSERT_EQ(run.requests().size(), 1u);
    EXPECT_EQ(run.requests()[0]["status"], 0);

    background_process waiting({bin_path("otaflash-pull-device"), "--kind", "esp32-httpupdate", "--url", where});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(waiting.pid(), SIGTERM);
    auto stopped = waiting.stop(std::chrono::seconds(5));
    EXPECT_EQ(stopped.exit_code, 143);
}

// Byte for byte what ESP8266httpUpdate sends: HTTP/1.0 and its headers.
TEST_F(PullDevice, ArduinoRequestsAreHttp10WithTheCoreHeaders) {
    canned_server server({"HTTP/1.0 304 Not Modified\r\nContent-Length: 0\r\n\r\n"});
    auto run = pull({"--kind", "esp8266-httpupdate", "--url", server.url("/fw.bin?x=1"), "--mac", "18:FE:34:00:00:07",
                     "--version", "3.1.4", "--flash-size", "1MB"});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.out;
    ASSERT_EQ(server.requests().size(), 1u);
    const std::string& request = server.requests()[0];
    EXPECT_TRUE(request.starts_with("GET /fw.bin?x=1 HTTP/1.0\r\n")) << request;
    for (const char* line : {"\r\nUser-Agent: ESP8266-http-Update\r\n", "\r\nx-ESP8266-STA-MAC: 18:FE:34:00:00:07\r\n",
                             "\r\nx-ESP8266-chip-size: 1048576\r\n", "\r\nx-ESP8266-mode: sketch\r\n",
                             "\r\nx-ESP8266-version: 3.1.4\r\n"})
        EXPECT_NE(request.find(line), std::string::npos) << line << " not in\n" << request;
    EXPECT_EQ(request.find("Range"), std::string::npos);
}

// What serve never answers: esp32FOTA refuses a firmware answer that is not an octet stream, and
// every client refuses one without Content-Length, before reading the body.
TEST_F(PullDevice, WrongContentTypeOrNoLengthIsRefusedAfterTheHeaders) {
    const bytes image = esp32_image(8 * 1024);
    const std::string size = std::to_string(image.size());
    {
        canned_server firmware({answer("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + size, image)});
        const std::string manifest = R"({"type":"esp32-fota-http","version":"9.0.0","url":")" + firmware.url("/fw.bin") + R"("})";
        canned_server fota({answer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                       std::to_string(manifest.size()),
                                   bytes(manifest.begin(), manifest.end()))});
        auto run = pull({"--kind", "esp32fota", "--url", fota.url("/manifest.json")});
        EXPECT_EQ(run.r.exit_code, 8) << run.r.out;
        EXPECT_EQ(run.result()["detail"], "There was no valid content type in the response ('text/html')");
        ASSERT_EQ(run.requests().size(), 2u);
        EXPECT_EQ(run.requests()[1]["status"], 200);
        EXPECT_EQ(run.requests()[1]["bytes"], 0);  // closed after the headers
    }
    canned_server chunked({answer("HTTP/1.1 200 OK\r\nContent-Length: 5", bytes{'9', '.', '9', '.', '9'}),
                           "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "4\r\n\xE9\x03\x02\x20\r\n0\r\n\r\n"});
    auto run = pull({"--kind", "raw", "--url", chunked.url("/")});
    EXPECT_EQ(run.r.exit_code, 8) << run.r.out;
    EXPECT_EQ(run.result()["detail"], "Server Did Not Report Size");
    EXPECT_EQ(run.result()["code"], "image_check_failed");
}

// A resumed download whose Content-Range does not continue where the cut was is refused.
TEST_F(PullDevice, AResumeThatDoesNotContinueIsRefused) {
    const bytes image = esp32_image(8 * 1024);
    const std::string size = std::to_string(image.size());
    canned_server server({answer("HTTP/1.1 200 OK\r\nContent-Length: 5", bytes{'9', '.', '9', '.', '9'}),
                          answer("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nETag: \"abc\"\r\n"
                                 "Content-Length: " + size, image),
                          answer("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-" +
                                     std::to_string(image.size() - 1) + "/" + size + "\r\nContent-Length: " + size,
                                 image)});
    auto run = pull({"--kind", "raw", "--url", server.url(""), "--drop-after", "1000"});
    EXPECT_EQ(run.r.exit_code, 7) << run.r.out;
    EXPECT_EQ(run.result()["detail"], "Content-Range 'bytes 0-" + std::to_string(image.size() - 1) + "/" + size +
                                          "' does not continue at 1000");
    ASSERT_EQ(server.requests().size(), 3u);
    EXPECT_NE(server.requests()[2].find("\r\nRange: bytes=1000-\r\n"), std::string::npos) << server.requests()[2];
    EXPECT_NE(server.requests()[2].find("\r\nIf-Range: \"abc\"\r\n"), std::string::npos) << server.requests()[2];
}

TEST_F(PullDevice, NoServerIsUnreachableAndUsageMistakesExit2) {
    refused_port closed;
    auto nobody = pull({"--kind", "raw", "--url", "http://127.0.0.1:" + std::to_string(closed.port()) + "/"});
    EXPECT_EQ(nobody.r.exit_code, 5) << nobody.r.out;
    EXPECT_EQ(nobody.result()["code"], "host_not_found");
    EXPECT_NE(nobody.result()["detail"].get<std::string>().find("cannot connect: Connection refused"), std::string::npos)
        << nobody.result();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"--url", "ftp://h/"}, {"--url", "http://h/", "--kind", "esp9000"},
          {"--url", "http://h/", "--mode", "ota"}, {"--url", "http://h/", "--insecure", "--ca-cert", "x.pem"},
          {"--url", "http://h/", "--devices", "colour=red"}, {"--url", "http://h/", "--count", "0"}, {"--kind", "raw"}}) {
        auto r = pull(args);
        EXPECT_EQ(r.r.exit_code, 2) << args[0] << " " << args[1] << ": " << r.r.err;
        EXPECT_TRUE(r.events.empty());
    }
}

// Device credentials against serve requiring them: Basic from the environment or a file, a bearer
// token from the environment or a file, each updating; a wrong or missing one is 401 = exit 6 with
// a detail that says what was sent; no secret (nor its base64) in anything the device prints.
TEST_F(PullDevice, CredentialsFromEnvironmentOrFileUpdateAndWrongOnesAreExit6) {
    const std::string password = "pw-5ee2c0d1", token = "tok-71c9a4be";
    const std::string token_file = dir.write("serve-token", token + "\n");
    process_options serve_env;
    serve_env.env["OTAFLASH_DEVICE_PASSWORD"] = password;
    serve_process s({file8266, "--version", "2.4.0", "--device-user", "ota", "--device-token-file", token_file}, serve_env);
    ASSERT_TRUE(s.started()) << s.first_line();
    const std::vector<std::string> device{"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--version", "2.3.0"};
    auto with = [&](std::vector<std::string> more) {
        std::vector<std::string> args = device;
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    auto env = [](std::string variable, std::string value) {
        process_options o;
        o.env[variable] = value;
        return o;
    };
    auto expect_quiet = [&](const device_run& run, const std::string& what) {
        for (const std::string& secret : {password, token, std::string("b3RhOnB3LTVlZTJjMGQx")})  // base64 "ota:pw-…"
            for (const std::string* stream : {&run.r.out, &run.r.err})
                EXPECT_EQ(stream->find(secret), std::string::npos) << what << ": a secret was printed:\n" << *stream;
    };

    const std::string password_file = dir.write("device-password", password + "\r\n");
    const std::string device_token = dir.write("device-token", token + "\n");
    struct good_case {
        std::string what;
        std::vector<std::string> args;
        process_options options;
    };
    for (const auto& c : std::vector<good_case>{{"Basic, env", with({"--user", "ota"}), env("OTAFLASH_DEVICE_PASSWORD", password)},
                                                {"Basic, file", with({"--user", "ota", "--password-file", password_file}), {}},
                                                {"Bearer, env", device, env("OTAFLASH_DEVICE_TOKEN", token)},
                                                {"Bearer, file", with({"--token-file", device_token}), {}}}) {
        auto run = pull(c.args, c.options);
        EXPECT_EQ(run.r.exit_code, 0) << c.what << "\n" << run.r.err << run.r.out;
        EXPECT_EQ(run.result()["outcome"], "updated") << c.what;
        EXPECT_EQ(run.result()["md5"], to_hex(md5(image8266))) << c.what;
        expect_quiet(run, c.what);
    }
    // A raw client sends them with each of its requests (/version, then /firmware.bin).
    auto raw = pull({"--kind", "raw", "--chip", "esp8266", "--url", url(s, "/"), "--version", "2.0.0", "--token-file", device_token});
    EXPECT_EQ(raw.r.exit_code, 0) << raw.r.out;
    ASSERT_EQ(raw.requests().size(), 2u);
    EXPECT_EQ(raw.requests()[1]["status"], 200);

    auto wrong = pull(with({"--user", "ota"}), env("OTAFLASH_DEVICE_PASSWORD", "not-" + password));
    EXPECT_EQ(wrong.r.exit_code, 6) << wrong.r.out;
    EXPECT_EQ(wrong.result()["code"], "auth_failed");
    EXPECT_EQ(wrong.result()["detail"],
              "Unauthorized (401): the server refused the Basic credentials of user 'ota'; check them against the server's");
    expect_quiet(wrong, "wrong password");
    auto wrong_token = pull(device, env("OTAFLASH_DEVICE_TOKEN", token + "x"));
    EXPECT_EQ(wrong_token.r.exit_code, 6) << wrong_token.r.out;
    EXPECT_NE(wrong_token.result()["detail"].get<std::string>().find("refused the bearer token"), std::string::npos);
    expect_quiet(wrong_token, "wrong token");
    auto none = pull(device);
    EXPECT_EQ(none.r.exit_code, 6) << none.r.out;
    EXPECT_NE(none.result()["detail"].get<std::string>().find("the device sent none; give --user"), std::string::npos)
        << none.result();
    EXPECT_EQ(s.wait_line("401").has_value(), true);
}

// The Authorization header on the wire, byte for byte: Basic right after HTTPClient's own lines,
// Bearer when only a token is given, and with both exactly one header, the Basic one.
TEST_F(PullDevice, AuthorizationHeaderOnTheWire) {
    const std::string not_modified = "HTTP/1.0 304 Not Modified\r\nContent-Length: 0\r\n\r\n";
    canned_server server({not_modified, not_modified, not_modified});
    const std::string token_file = dir.write("token", "tok-9f8e\n");
    process_options basic;
    basic.env["OTAFLASH_DEVICE_PASSWORD"] = "s3cret";
    const std::vector<std::string> device{"--kind", "esp8266-httpupdate", "--url", server.url("/fw.bin")};
    auto plus = [&](std::vector<std::string> more) {
        std::vector<std::string> args = device;
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    EXPECT_EQ(pull(plus({"--user", "ota"}), basic).r.exit_code, 0);
    EXPECT_EQ(pull(plus({"--token-file", token_file})).r.exit_code, 0);
    EXPECT_EQ(pull(plus({"--user", "ota", "--token-file", token_file}), basic).r.exit_code, 0);
    const auto& requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_NE(requests[0].find("\r\nUser-Agent: ESP8266-http-Update\r\nAuthorization: Basic b3RhOnMzY3JldA==\r\n"),
              std::string::npos)
        << requests[0];
    EXPECT_NE(requests[1].find("\r\nAuthorization: Bearer tok-9f8e\r\n"), std::string::npos) << requests[1];
    EXPECT_NE(requests[2].find("\r\nAuthorization: Basic b3RhOnMzY3JldA==\r\n"), std::string::npos) << requests[2];
    EXPECT_EQ(requests[2].find("Bearer"), std::string::npos) << requests[2];
}

// Secrets only from the environment or a file, and a clear refusal when one is missing.
TEST_F(PullDevice, CredentialOptionsRefuseWhatCannotWork) {
    const std::vector<std::string> device{"--kind", "esp8266-httpupdate", "--url", "http://127.0.0.1:9/fw.bin"};
    auto plus = [&](std::vector<std::string> more) {
        std::vector<std::string> args = device;
        args.insert(args.end(), more.begin(), more.end());
        return args;
    };
    auto no_password = pull(plus({"--user", "ota"}));
    EXPECT_EQ(no_password.r.exit_code, 6) << no_password.r.err;
    EXPECT_NE(no_password.r.err.find("--user needs a password"), std::string::npos) << no_password.r.err;
    EXPECT_TRUE(no_password.events.empty());
    auto empty_file = pull(plus({"--user", "ota", "--password-file", dir.write("empty", std::string("\n"))}));
    EXPECT_NE(empty_file.r.exit_code, 0);
    EXPECT_NE(empty_file.r.err.find("has an empty first line"), std::string::npos) << empty_file.r.err;
    auto no_user = pull(plus({"--password-file", dir.write("pw", std::string("x\n"))}));
    EXPECT_EQ(no_user.r.exit_code, 2) << no_user.r.err;
    EXPECT_NE(no_user.r.err.find("--password-file needs --user"), std::string::npos) << no_user.r.err;
    auto in_url = pull({"--kind", "raw", "--url", "http://ota:hunter2@127.0.0.1:9/"});
    EXPECT_EQ(in_url.r.exit_code, 2) << in_url.r.err;
    EXPECT_EQ(in_url.r.err.find("hunter2"), std::string::npos) << in_url.r.err;
}

// ESP8266httpUpdate's version query: x-ESP8266-mode: version, serve answers 200 with x-version
// and x-MD5 and no body; nothing is downloaded. HTTPUpdate (esp32) has no such query.
TEST_F(PullDevice, VersionQueryReportsTheOfferedVersionWithoutDownloading) {
    serve_process s({file8266, "--version", "2.4.0"});
    ASSERT_TRUE(s.started()) << s.first_line();
    auto run = pull({"--kind", "esp8266-httpupdate", "--url", url(s, "/firmware.bin"), "--mode", "version", "--version", "2.3.0"});
    EXPECT_EQ(run.r.exit_code, 0) << run.r.err << run.r.out;
    auto r = run.result();
    EXPECT_EQ(r["outcome"], "version");
    EXPECT_EQ(r["offered"], "2.4.0");
    EXPECT_EQ(r["md5"], to_hex(md5(image8266)));
    EXPECT_EQ(r["bytes"], 0);
    ASSERT_EQ(run.requests().size(), 1u);
    EXPECT_EQ(run.requests()[0]["status"], 200);
    EXPECT_EQ(run.requests()[0]["bytes"], 0);
    EXPECT_TRUE(s.wait_line("200 version 2.4.0"));

    canned_server no_version({"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"});
    auto missing = pull({"--kind", "esp8266-httpupdate", "--url", no_version.url("/fw.bin"), "--mode", "version"});
    EXPECT_EQ(missing.r.exit_code, 7) << missing.r.out;
    EXPECT_EQ(missing.result()["detail"], "Server Did Not Report Version (no x-version header)");
    ASSERT_EQ(no_version.requests().size(), 1u);
    EXPECT_NE(no_version.requests()[0].find("\r\nx-ESP8266-mode: version\r\n"), std::string::npos) << no_version.requests()[0];

    auto esp32 = pull({"--kind", "esp32-httpupdate", "--url", url(s, "/firmware.bin"), "--mode", "version"});
    EXPECT_EQ(esp32.r.exit_code, 2) << esp32.r.err;
}
