// Device kind × authentication × fault of OTA_DEVICE_CONTRACT.md, each over loopback against the
// emulated device: the exit code, the error class and its words, and on success the exact bytes.

#include "push_harness.hpp"

#include <tuple>

using namespace otaflash::test;

namespace {

const std::string image = fixture_image("esp8266_deepsleep.bin");  // 297632 bytes starting with 0xE9

struct expectation {
    int exit_code;
    std::string code;    // errc name; empty on success
    std::string phrase;  // in the message
};

bool esp32_kind(const std::string& kind) { return kind == "esp32" || kind == "esp32-legacy"; }

expectation expected(const std::string& kind, const std::string& fault) {
    if (fault == "none") return {0, "", ""};
    if (fault == "silent") return {5, "invite_no_reply", "no answer"};
    if (fault == "reject-auth") return {6, "auth_failed", "rejected the password"};
    if (fault == "no-space")
        return esp32_kind(kind) ? expectation{5, "accept_timeout", "never connected back"}
                                : expectation{11, "device_refused", "Not Enough Space"};
    if (fault == "no-connect") return {5, "accept_timeout", "never connected back"};
    if (fault == "connect-idle") return {7, "ack_timeout", "stalled"};
    if (fault == "drop-after=20000") return {7, "connection_lost", "connection"};
    if (fault == "stall-after=20000") return {7, "ack_timeout", "stalled"};
    if (fault == "bad-md5") return {8, "device_verify_failed", "MD5"};
    if (fault == "end-error=Flash Write Failed") return {7, "device_error", "Flash Write Failed"};
    return {-1, "unknown fault", ""};
}

using matrix_case = std::tuple<std::string, bool, std::string>;

class PushMatrix : public ::testing::TestWithParam<matrix_case> {};

TEST_P(PushMatrix, EndsWithTheRightClass) {
    const auto& [kind, password, fault] = GetParam();
    temp_dir dir;
    device_options o;
    o.kind = kind;
    o.password = password;
    if (fault != "none") o.extra = {"--fault", fault};
    emulated_device device{o, dir};

    push_call call;
    call.args = fast_timeouts();
    call.args.push_back(image);
    call.args.push_back(device.target());
    if (password) call.password_env = device_password;
    const auto started = std::chrono::steady_clock::now();
    const push_result r = run_otaflash(call);
    const auto took = std::chrono::steady_clock::now() - started;

    expect_consistent(r);
    const expectation want = expected(kind, fault);
    ASSERT_NE(want.exit_code, -1);
    EXPECT_EQ(r.proc.exit_code, want.exit_code) << r.proc.out << r.proc.err;
    EXPECT_EQ(r.code(), want.code) << r.message();
    EXPECT_NE(r.message().find(want.phrase), std::string::npos) << r.message();
    EXPECT_LT(took, 20s) << "every case ends within its timeouts";
    if (want.exit_code == 0) {
        ASSERT_TRUE(r.doc.is_object());
        EXPECT_EQ(r.doc["result"]["result"], "confirmed");
        EXPECT_EQ(r.doc["result"]["bytes_sent"], 297632);
        EXPECT_EQ(r.doc["result"]["device"]["result"], "OK");
        if (password) {
            EXPECT_EQ(r.doc["result"]["auth"]["scheme"], kind == "esp32" ? "pbkdf2-sha256" : "md5");
        } else {
            EXPECT_TRUE(r.doc["result"]["auth"].is_null());
        }
        expect_received_identical(device, image);
    } else {
        EXPECT_FALSE(r.hint().empty()) << "every failure says what to do";
        EXPECT_NE(r.doc["result"]["result"], "confirmed");
    }
    // The password never leaks into the output.
    EXPECT_EQ(r.proc.out.find(device_password), std::string::npos);
    EXPECT_EQ(r.proc.err.find(device_password), std::string::npos);
}

std::string case_name(const ::testing::TestParamInfo<matrix_case>& info) {
    std::string name = std::get<0>(info.param) + "_" + (std::get<1>(info.param) ? "password" : "open") + "_" +
                       std::get<2>(info.param);
    for (auto& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

// Every kind × {no password, password} × fault, except reject-auth without a password: a device
// without a password asks for none, so there is nothing to reject (the emulator refuses the pair).
std::vector<matrix_case> all_cases() {
    std::vector<matrix_case> cases;
    for (const char* kind : {"esp8266", "esp32-legacy", "esp32", "rp2040"})
        for (bool password : {false, true})
            for (const char* fault : {"none", "silent", "reject-auth", "no-space", "no-connect", "connect-idle",
                                      "drop-after=20000", "stall-after=20000", "bad-md5", "end-error=Flash Write Failed"})
                if (password || std::string{fault} != "reject-auth") cases.emplace_back(kind, password, fault);
    return cases;
}

INSTANTIATE_TEST_SUITE_P(KindsAuthFaults, PushMatrix, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
