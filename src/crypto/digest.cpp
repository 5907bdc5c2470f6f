#include <otaflash/crypto/digest.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace otaflash {
namespace {
const EVP_MD* algorithm(digest_kind kind) { return kind == digest_kind::md5 ? EVP_md5() : EVP_sha256(); }

template <std::size_t N>
std::array<std::uint8_t, N> one_shot(digest_kind kind, byte_view data) {
    std::array<std::uint8_t, N> out{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &len, algorithm(kind), nullptr) != 1 || len != N)
        throw std::runtime_error("OpenSSL digest failed");
    return out;
}
}  // namespace

void hasher::ctx_deleter::operator()(evp_md_ctx_st* ctx) const noexcept { EVP_MD_CTX_free(ctx); }

hasher::hasher(digest_kind kind) : ctx_(EVP_MD_CTX_new()), kind_(kind) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), algorithm(kind), nullptr) != 1)
        throw std::runtime_error("OpenSSL digest init failed");
}
hasher::~hasher() = default;
hasher::hasher(hasher&&) noexcept = default;
hasher& hasher::operator=(hasher&&) noexcept = default;

void hasher::update(byte_view data) {
    if (!data.empty() && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1)
        throw std::runtime_error("OpenSSL digest update failed");
}

bytes hasher::finish() {
    bytes out(static_cast<std::size_t>(EVP_MAX_MD_SIZE));
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) != 1 ||
        EVP_DigestInit_ex(ctx_.get(), algorithm(kind_), nullptr) != 1)
        throw std::runtime_error("OpenSSL digest final failed");
    out.resize(len);
    return out;
}

md5_digest md5(byte_view data) { return one_shot<16>(digest_kind::md5, data); }
sha256_digest sha256(byte_view data) { return one_shot<32>(digest_kind::sha256, data); }

}  // namespace otaflash
