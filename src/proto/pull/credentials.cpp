#include <otaflash/proto/pull/credentials.hpp>

#include <otaflash/util/base64.hpp>

#include <openssl/crypto.h>

#include <cctype>

namespace otaflash::proto::pull {
namespace {

bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// "Basic xyz" → "xyz" when the scheme (case-insensitive) matches.
std::optional<std::string_view> after_scheme(std::string_view header, std::string_view scheme) {
    if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return std::nullopt;
    header.remove_prefix(scheme.size());
    while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
    while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
    return header;
}

}  // namespace

credentials check_credentials(std::optional<std::string_view> authorization, const device_credentials& expected) {
    if (!expected.required()) return credentials::not_required;
    if (!authorization) return credentials::missing;
    if (auto token = after_scheme(*authorization, "bearer")) {
        if (expected.token.empty()) return credentials::rejected;
        return same(*token, expected.token.reveal()) ? credentials::accepted : credentials::rejected;
    }
    if (auto encoded = after_scheme(*authorization, "basic")) {
        if (!expected.user) return credentials::rejected;
        auto decoded = from_base64(*encoded);
        if (!decoded) return credentials::rejected;
        std::string_view pair(reinterpret_cast<const char*>(decoded->data()), decoded->size());
        auto colon = pair.find(':');
        bool ok = colon != std::string_view::npos && same(pair.substr(0, colon), *expected.user) &&
                  same(pair.substr(colon + 1), expected.password.reveal());
        OPENSSL_cleanse(decoded->data(), decoded->size());
        return ok ? credentials::accepted : credentials::rejected;
    }
    return credentials::rejected;
}

}  // namespace otaflash::proto::pull
