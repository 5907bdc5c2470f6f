#pragma once
// Device credentials of the pull server: HTTP Basic (ESPhttpUpdate's setAuthorization(user,
// password)) or a bearer token (setAuthorization("Bearer …") / a raw Authorization header), the
// secrets compared in constant time. Pure: the transport passes the Authorization header.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/proto/pull/decision.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otaflash::proto::pull {

struct device_credentials {
    std::optional<std::string> user;  // Basic is accepted when set, with `password`
    secret password;
    secret token;                     // Bearer is accepted when not empty

    bool required() const noexcept { return user.has_value() || !token.empty(); }
};

// not_required when none are configured; missing without an Authorization header (or one of a
// scheme not configured); accepted or rejected otherwise.
credentials check_credentials(std::optional<std::string_view> authorization, const device_credentials& expected);

}  // namespace otaflash::proto::pull
