#include "cli/logging.hpp"
#include "cli/progress_render.hpp"

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::cli;

TEST(LogLevel, FlagsEnvironmentAndDefault) {
    logging_options o;
    EXPECT_EQ(*resolve_log_level(o, nullptr), log_level::warn);
    EXPECT_EQ(*resolve_log_level(o, "debug"), log_level::debug);
    o.verbose = 1;
    EXPECT_EQ(*resolve_log_level(o, "error"), log_level::info);  // a flag beats the environment
    o.verbose = 3;
    EXPECT_EQ(*resolve_log_level(o, nullptr), log_level::trace);
    o = {};
    o.quiet = true;
    EXPECT_EQ(*resolve_log_level(o, nullptr), log_level::error);
    o.level = "trace";
    EXPECT_EQ(*resolve_log_level(o, nullptr), log_level::trace);
}

TEST(LogLevel, ContradictionsAndUnknownNamesFail) {
    logging_options o;
    o.quiet = true;
    o.verbose = 1;
    auto r = resolve_log_level(o, nullptr);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::usage_error);
    o = {};
    o.level = "loud";
    EXPECT_EQ(resolve_log_level(o, nullptr).error().code, errc::usage_error);
    EXPECT_EQ(resolve_log_level({}, "loud").error().code, errc::config_invalid);
}

TEST(ProgressMode, AutoFollowsTheTerminal) {
    terminal_facts tty;
    tty.stderr_tty = true;
    EXPECT_EQ(resolve_progress_mode(progress_mode::auto_, tty, false, false), progress_mode::bar);
    terminal_facts ci = tty;
    ci.ci = true;
    EXPECT_EQ(resolve_progress_mode(progress_mode::auto_, ci, false, false), progress_mode::plain);
    terminal_facts dumb = tty;
    dumb.dumb = true;
    EXPECT_EQ(resolve_progress_mode(progress_mode::auto_, dumb, false, false), progress_mode::plain);
    EXPECT_EQ(resolve_progress_mode(progress_mode::auto_, terminal_facts{}, false, false), progress_mode::plain);
    EXPECT_EQ(resolve_progress_mode(progress_mode::auto_, tty, true, false), progress_mode::none);
    EXPECT_EQ(resolve_progress_mode(progress_mode::auto_, tty, false, true), progress_mode::none);
    EXPECT_EQ(resolve_progress_mode(progress_mode::json, tty, true, false), progress_mode::json);
    EXPECT_FALSE(parse_progress_mode("fancy"));
}
