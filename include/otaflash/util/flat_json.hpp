#pragma once
// The small JSON the MQTT OTA devices speak: one object of strings, numbers, booleans and nulls
// (`{"title":"s31-nb","version":"v1.5.0"}`, `{"code":7,"message":"..."}`). The core cannot use a
// JSON library (layering), and these payloads never nest; anything else is refused, not guessed.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace otaflash::flat_json {

using value = std::variant<std::nullptr_t, bool, double, std::string>;
using object = std::map<std::string, value, std::less<>>;

// nullopt when `text` is not exactly one flat object (nested values, trailing bytes, bad escapes,
// invalid numbers). Later duplicate keys win, as in most parsers.
std::optional<object> parse(std::string_view text);

const std::string* string_at(const object& o, std::string_view key);
// A number that is an integer (7, 100, 7.0); nullopt for anything else.
std::optional<long long> integer_at(const object& o, std::string_view key);

// `"text"` with JSON escapes (control characters as \u00XX); bytes >= 0x80 pass through.
std::string quote(std::string_view text);

// Writes `{"k":v,...}` in the order given; values are already JSON (quote() or numbers).
std::string write(const std::vector<std::pair<std::string_view, std::string>>& members);

}  // namespace otaflash::flat_json
