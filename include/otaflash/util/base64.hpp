#pragma once

#include <otaflash/util/bytes.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace otaflash {

// Standard alphabet (RFC 4648 §4), '=' padding optional, whitespace and line breaks ignored (JSON
// files written by other tools fold long strings). nullopt on any other character or a dangling
// sextet.
std::optional<bytes> from_base64(std::string_view text);

// Standard alphabet with '=' padding, on one line (HTTP Basic credentials, stub JSON).
std::string to_base64(byte_view data);

}  // namespace otaflash
