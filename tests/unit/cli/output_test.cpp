#include "cli/output.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

using namespace otaflash;
using namespace otaflash::cli;

namespace {
struct captured {
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    ~captured() { std::fclose(out); std::fclose(err); }
    static std::string read(std::FILE* f) {
        std::rewind(f);
        std::string s;
        int c;
        while ((c = std::fgetc(f)) != EOF) s.push_back(static_cast<char>(c));
        return s;
    }
};
}  // namespace

TEST(Reporter, JsonSuccessIsOneDocumentWithResultAndWarnings) {
    captured io;
    reporter r{output_format::json, io.out, io.err};
    r.line("not shown in json mode");
    r.warn("legacy MD5 authentication");
    EXPECT_EQ(r.succeed("verify", {{"files", 1}}), 0);
    auto doc = nlohmann::json::parse(captured::read(io.out));
    EXPECT_EQ(doc["schema"], "otaflash/v1");
    EXPECT_EQ(doc["command"], "verify");
    EXPECT_EQ(doc["ok"], true);
    EXPECT_EQ(doc["exit_code"], 0);
    EXPECT_TRUE(doc["error"].is_null());
    EXPECT_EQ(doc["result"]["files"], 1);
    EXPECT_EQ(doc["warnings"][0], "legacy MD5 authentication");
    EXPECT_EQ(captured::read(io.err), "");
}

TEST(Reporter, JsonFailureCarriesCodeConditionMessageHint) {
    captured io;
    reporter r{output_format::json, io.out, io.err};
    EXPECT_EQ(r.fail("push", make_failure(errc::auth_failed, "device said Authentication Failed", "check the password")), 6);
    auto doc = nlohmann::json::parse(captured::read(io.out));
    EXPECT_EQ(doc["ok"], false);
    EXPECT_EQ(doc["exit_code"], 6);
    EXPECT_EQ(doc["error"]["code"], "auth_failed");
    EXPECT_EQ(doc["error"]["condition"], "auth");
    EXPECT_EQ(doc["error"]["hint"], "check the password");
}

TEST(Reporter, TextModeSeparatesResultsFromErrors) {
    captured io;
    reporter r{output_format::text, io.out, io.err};
    r.line("image: ok");
    EXPECT_EQ(r.fail("verify", make_failure(errc::not_an_image, "x.bin is not an ESP image", "check the file")), 4);
    EXPECT_EQ(captured::read(io.out), "image: ok\n");
    EXPECT_EQ(captured::read(io.err), "error: x.bin is not an ESP image\nhint: check the file\n");
}

TEST(Reporter, FinishesOnlyOnce) {
    captured io;
    reporter r{output_format::json, io.out, io.err};
    r.succeed("info");
    r.succeed("info");
    auto text = captured::read(io.out);
    EXPECT_NO_THROW(nlohmann::json::parse(text));
}

TEST(Reporter, StreamedJsonIsOneLinePerEventAndTheSummaryLast) {
    captured io;
    reporter r{output_format::json, io.out, io.err};
    r.stream_events();
    r.line("not shown in json mode");
    r.event({{"event", "listening"}, {"urls", {"http://127.0.0.1:1/"}}});
    r.warn("a warning");
    EXPECT_EQ(r.fail("serve", make_failure(errc::port_busy, "in use", "pick another"), {{"requests", 3}}), 9);
    const auto text = captured::read(io.out);
    const auto nl = text.find('\n');
    ASSERT_NE(nl, std::string::npos);
    EXPECT_EQ(text.substr(0, nl), R"({"event":"listening","urls":["http://127.0.0.1:1/"]})");
    ASSERT_EQ(text.back(), '\n');
    const auto last = nlohmann::json::parse(text.substr(nl + 1));  // one line: no second newline before it ends
    EXPECT_EQ(text.find('\n', nl + 1), text.size() - 1);
    EXPECT_EQ(last["event"], "summary");
    EXPECT_EQ(last["requests"], 3);
    EXPECT_EQ(last["exit_code"], 9);
    EXPECT_EQ(last["error"]["code"], "port_busy");
    EXPECT_EQ(last["warnings"][0], "a warning");
    EXPECT_FALSE(last.contains("result"));
}

TEST(Reporter, AnEventThatCannotBeWrittenEndsInExit13) {
    std::FILE* full = std::fopen("/dev/full", "w");
    ASSERT_NE(full, nullptr);
    captured io;
    reporter r{output_format::json, full, io.err};
    r.stream_events();
    r.event({{"event", "listening"}});
    EXPECT_EQ(r.succeed("serve"), 13);
    std::fclose(full);
}
