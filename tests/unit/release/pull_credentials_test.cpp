// Device credentials of the pull server: Basic and bearer, exact header vectors.

#include <otaflash/proto/pull/credentials.hpp>

#include <gtest/gtest.h>

using namespace otaflash;
using namespace otaflash::proto::pull;

namespace {
device_credentials basic_and_token() {
    device_credentials c;
    c.user = "ota";
    c.password = secret{"s3cret"};
    c.token = secret{"tok-123"};
    return c;
}
}  // namespace

TEST(PullCredentials, NoneConfiguredNeedsNone) {
    EXPECT_EQ(check_credentials(std::nullopt, {}), credentials::not_required);
    EXPECT_EQ(check_credentials("Basic b3RhOnMzY3JldA==", {}), credentials::not_required);
}

TEST(PullCredentials, BasicAsEspHttpUpdateSendsIt) {
    auto c = basic_and_token();
    EXPECT_EQ(check_credentials("Basic b3RhOnMzY3JldA==", c), credentials::accepted);
    EXPECT_EQ(check_credentials("basic  b3RhOnMzY3JldA== ", c), credentials::accepted);
    EXPECT_EQ(check_credentials("Basic b3RhOndyb25n", c), credentials::rejected);    // ota:wrong
    EXPECT_EQ(check_credentials("Basic b3RoZXI6czNjcmV0", c), credentials::rejected);  // other:s3cret
    EXPECT_EQ(check_credentials("Basic b3Rh", c), credentials::rejected);              // no colon
    EXPECT_EQ(check_credentials("Basic !!!", c), credentials::rejected);
    EXPECT_EQ(check_credentials(std::nullopt, c), credentials::missing);
}

TEST(PullCredentials, BearerToken) {
    auto c = basic_and_token();
    EXPECT_EQ(check_credentials("Bearer tok-123", c), credentials::accepted);
    EXPECT_EQ(check_credentials("bearer tok-123", c), credentials::accepted);
    EXPECT_EQ(check_credentials("Bearer tok-124", c), credentials::rejected);
    EXPECT_EQ(check_credentials("Bearer tok-12", c), credentials::rejected);
    EXPECT_EQ(check_credentials("Digest x", c), credentials::rejected);
    device_credentials only_basic;
    only_basic.user = "ota";
    only_basic.password = secret{"s3cret"};
    EXPECT_EQ(check_credentials("Bearer tok-123", only_basic), credentials::rejected);
    device_credentials only_token;
    only_token.token = secret{"tok-123"};
    EXPECT_EQ(check_credentials("Basic b3RhOnMzY3JldA==", only_token), credentials::rejected);
}
