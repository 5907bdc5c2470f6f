#pragma once
// MD5 and SHA-256 over OpenSSL 3 EVP (no deprecated low-level API).

#include <otaflash/util/bytes.hpp>

#include <array>
#include <memory>

struct evp_md_ctx_st;

namespace otaflash {

using md5_digest = std::array<std::uint8_t, 16>;
using sha256_digest = std::array<std::uint8_t, 32>;

enum class digest_kind { md5, sha256 };

// Incremental hashing for data that arrives in pieces (streamed uploads, device emulators).
class hasher {
public:
    explicit hasher(digest_kind kind);
    ~hasher();
    hasher(hasher&&) noexcept;
    hasher& operator=(hasher&&) noexcept;

    void update(byte_view data);
    // Returns the digest (16 or 32 bytes) and resets for reuse.
    bytes finish();

private:
    struct ctx_deleter { void operator()(evp_md_ctx_st* ctx) const noexcept; };
    std::unique_ptr<evp_md_ctx_st, ctx_deleter> ctx_;
    digest_kind kind_;
};

md5_digest md5(byte_view data);
sha256_digest sha256(byte_view data);

}  // namespace otaflash
