// Where the password comes from (cli/secrets.hpp), stdin faked; files are real, read by the one
// secret-file reader (io/secret_file.hpp) that otaflash and its emulators share.

#include "cli/secrets.hpp"

#include <fixtures.hpp>

#include <otaflash/io/secret_file.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

using namespace otaflash;
using namespace otaflash::cli;

namespace {

struct fake_readers {
    std::map<std::string, std::string> files;  // "/p" is written as <temp dir>/p
    std::optional<std::string> stdin_text;
    int stdin_reads = 0;
    test::temp_dir dir;

    password_readers get() {
        password_readers r;
        r.file = [this](const std::string& path) -> result<secret> {
            auto it = files.find(path);
            const std::string real = dir.file(path.substr(1));
            if (it != files.end()) dir.write(path.substr(1), it->second);
            return system_password_readers().file(real);
        };
        r.stdin_text = [this]() -> result<std::string> {
            ++stdin_reads;
            return stdin_text.value_or("");
        };
        return r;
    }
};

}  // namespace

TEST(Secrets, NothingGivenMeansNoPassword) {
    fake_readers f;
    auto r = resolve_password({}, f.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, password_source::none);
    EXPECT_TRUE(r->password.empty());
    EXPECT_TRUE(r->stored_hash.empty());
}

TEST(Secrets, EnvironmentVariable) {
    fake_readers f;
    password_inputs in;
    in.env = "s3cret";
    auto r = resolve_password(in, f.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, password_source::env);
    EXPECT_EQ(r->password.reveal(), "s3cret");
    EXPECT_TRUE(r->warnings.empty());
}

TEST(Secrets, EmptyEnvironmentVariableIsUnset) {
    fake_readers f;
    password_inputs in;
    in.env = "";
    EXPECT_EQ(resolve_password(in, f.get())->source, password_source::none);
}

TEST(Secrets, FileWinsOverEnvironmentAndKeepsSpaces) {
    fake_readers f;
    f.files["/p"] = "  pass word \r\nsecond line\n";
    password_inputs in;
    in.file = "/p";
    in.env = "from-env";
    auto r = resolve_password(in, f.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, password_source::file);
    EXPECT_EQ(r->password.reveal(), "  pass word ");
}

TEST(Secrets, MissingOrEmptyFile) {
    fake_readers f;
    f.files["/empty"] = "\n";
    password_inputs in;
    in.file = "/missing";
    auto r = resolve_password(in, f.get());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::file_not_found);
    in.file = "/empty";
    r = resolve_password(in, f.get());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::file_empty);
}

TEST(Secrets, Stdin) {
    fake_readers f;
    f.stdin_text = "piped\n";
    password_inputs in;
    in.from_stdin = true;
    in.env = "from-env";
    auto r = resolve_password(in, f.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, password_source::stdin_text);
    EXPECT_EQ(r->password.reveal(), "piped");
    f.stdin_text = "";
    r = resolve_password(in, f.get());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::password_unavailable);
}

TEST(Secrets, StdinIsNotReadUnlessAsked) {
    fake_readers f;
    f.stdin_text = "x";
    password_inputs in;
    in.env = "e";
    ASSERT_TRUE(resolve_password(in, f.get()));
    EXPECT_EQ(f.stdin_reads, 0);
}

TEST(Secrets, AuthArgumentWarns) {
    fake_readers f;
    password_inputs in;
    in.auth_arg = "visible";
    in.env = "from-env";
    auto r = resolve_password(in, f.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, password_source::auth_arg);
    EXPECT_EQ(r->password.reveal(), "visible");
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_NE(r->warnings[0].find("process list"), std::string::npos);
    for (const auto& w : r->warnings) EXPECT_EQ(w.find("visible"), std::string::npos) << "never echo the password";
}

TEST(Secrets, EmptyAuthArgumentMeansNoneAsTheIdePassesIt) {
    fake_readers f;
    password_inputs in;
    in.auth_arg = "";
    in.env = "from-env";
    auto r = resolve_password(in, f.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, password_source::env);
    EXPECT_TRUE(r->warnings.empty());
}

TEST(Secrets, HashIsLowercasedAndChecked) {
    fake_readers f;
    password_inputs in;
    in.hash = "21232F297A57A5A743894A0E4A801FC3";
    auto r = resolve_password(in, f.get());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, password_source::hash);
    EXPECT_EQ(r->stored_hash.reveal(), "21232f297a57a5a743894a0e4a801fc3");
    EXPECT_TRUE(r->password.empty());
    in.hash = std::string(64, 'A');
    EXPECT_EQ(resolve_password(in, f.get())->stored_hash.reveal(), std::string(64, 'a'));
    for (const char* bad : {"xyz", "21232f297a57a5a743894a0e4a801fc", "21232f297a57a5a743894a0e4a801fcz"}) {
        in.hash = bad;
        auto e = resolve_password(in, f.get());
        ASSERT_FALSE(e) << bad;
        EXPECT_EQ(e.error().code, errc::usage_error);
    }
}

TEST(Secrets, TwoCommandLineSourcesAreAUsageError) {
    fake_readers f;
    f.files["/p"] = "x";
    password_inputs in;
    in.file = "/p";
    in.auth_arg = "y";
    auto r = resolve_password(in, f.get());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::usage_error);
}

TEST(Secrets, SourceNamesNeverHoldTheSecret) {
    EXPECT_EQ(source_name(password_source::env), "OTAFLASH_PASSWORD");
    EXPECT_EQ(source_name(password_source::file), "password-file");
}

TEST(SecretFile, FirstLineOfAFileOrTheEnvironment) {
    test::temp_dir dir;
    const auto token = dir.write("token", std::string("tok en\r\nnext\n"));
    const auto empty = dir.write("empty", std::string("\nsecond\n"));
    auto line = read_secret_file(token, "--token-file");
    ASSERT_TRUE(line);
    EXPECT_EQ(line->reveal(), "tok en");
    auto e = read_secret_file(empty, "--token-file");
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, errc::file_empty);
    EXPECT_NE(e.error().message.find("--token-file " + empty), std::string::npos) << e.error().message;
    EXPECT_FALSE(read_secret_file(dir.file("missing"), "--token-file"));

    ::setenv("OTAFLASH_TEST_SECRET", "from-env", 1);
    EXPECT_EQ(secret_from_file_or_env(std::nullopt, "OTAFLASH_TEST_SECRET", "f")->reveal(), "from-env");
    EXPECT_EQ(secret_from_file_or_env(token, "OTAFLASH_TEST_SECRET", "f")->reveal(), "tok en");  // the file wins
    ::unsetenv("OTAFLASH_TEST_SECRET");
    EXPECT_TRUE(secret_from_file_or_env(std::nullopt, "OTAFLASH_TEST_SECRET", "f")->empty());
}
