#pragma once
// A password or password hash: wiped from memory when dropped, and never printable by accident
// (there is no operator<< and no implicit conversion to string).

#include <string>
#include <string_view>

namespace otaflash {

class secret {
public:
    secret() = default;
    explicit secret(std::string value) : value_(std::move(value)) {}
    secret(const secret&) = default;
    secret& operator=(const secret&) = default;
    secret(secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
    secret& operator=(secret&& other) noexcept {
        if (this != &other) { wipe(); value_ = std::move(other.value_); other.wipe(); }
        return *this;
    }
    ~secret() { wipe(); }

    bool empty() const noexcept { return value_.empty(); }
    // Deliberately verbose name: every use site is a place where the secret leaves this wrapper.
    std::string_view reveal() const noexcept { return value_; }

private:
    void wipe() noexcept;
    std::string value_;
};

// A secret as a file or a pipe holds it: the first line, without its line ending ("\n" or
// "\r\n"); spaces are kept, they may be part of it. The whole of `text` is wiped.
secret first_line_secret(std::string text);

}  // namespace otaflash
