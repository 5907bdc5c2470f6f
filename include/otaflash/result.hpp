#pragma once
// A value or a failure: the return type of every fallible operation below the CLI
// (std::expected is C++23; this is the small subset we need).

#include <otaflash/error.hpp>

#include <cassert>
#include <utility>
#include <variant>

namespace otaflash {

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    result(failure error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(state_); }
    const T& value() const& { assert(ok()); return std::get<0>(state_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const failure& error() const& { assert(!ok()); return std::get<1>(state_); }
    failure&& error() && { assert(!ok()); return std::get<1>(std::move(state_)); }

private:
    std::variant<T, failure> state_;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(failure error) : error_(std::move(error)), failed_(true) {}

    bool ok() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return ok(); }
    const failure& error() const& { assert(failed_); return error_; }
    failure&& error() && { assert(failed_); return std::move(error_); }

private:
    failure error_;
    bool failed_ = false;
};

}  // namespace otaflash
