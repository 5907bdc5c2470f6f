#include <otaflash/util/flat_json.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>

namespace otaflash::flat_json {
namespace {

class reader {
public:
    explicit reader(std::string_view text) : s_(text) {}

    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool eat(char c) {
        skip_space();
        if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
        return false;
    }
    bool at_end() {
        skip_space();
        return i_ == s_.size();
    }
    char peek() {
        skip_space();
        return i_ < s_.size() ? s_[i_] : '\0';
    }

    std::optional<std::string> string() {
        if (!eat('"')) return std::nullopt;
        std::string out;
        while (i_ < s_.size()) {
            const char c = s_[i_++];
            if (c == '"') return out;
            if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
            if (c != '\\') {
                out.push_back(c);
                continue;
            }
            if (i_ >= s_.size()) return std::nullopt;
            switch (s_[i_++]) {
            case '"': out.push_back('"'); break;
            case '\\': out.push_back('\\'); break;
            case '/': out.push_back('/'); break;
            case 'b': out.push_back('\b'); break;
            case 'f': out.push_back('\f'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 't': out.push_back('\t'); break;
            case 'u': {
                auto unit = hex4();
                if (!unit) return std::nullopt;
                std::uint32_t code = *unit;
                if (code >= 0xD800 && code < 0xDC00) {  // a surrogate pair
                    if (!(i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u')) return std::nullopt;
                    i_ += 2;
                    auto low = hex4();
                    if (!low || *low < 0xDC00 || *low >= 0xE000) return std::nullopt;
                    code = 0x10000 + ((code - 0xD800) << 10) + (*low - 0xDC00);
                } else if (code >= 0xDC00 && code < 0xE000) {
                    return std::nullopt;
                }
                append_utf8(out, code);
                break;
            }
            default: return std::nullopt;
            }
        }
        return std::nullopt;
    }

    std::optional<value> scalar() {
        const char c = peek();
        if (c == '"') {
            auto text = string();
            if (!text) return std::nullopt;
            return value{std::move(*text)};
        }
        if (word("true")) return value{true};
        if (word("false")) return value{false};
        if (word("null")) return value{nullptr};
        return number();
    }

private:
    bool word(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }

    // JSON's number grammar (no leading '+', no leading zeros, digits after '.' and 'e').
    std::optional<value> number() {
        const std::size_t start = i_;
        auto digits = [&] {
            const std::size_t from = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
            return i_ - from;
        };
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        const std::size_t int_start = i_;
        const std::size_t n = digits();
        if (n == 0 || (n > 1 && s_[int_start] == '0')) return std::nullopt;
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            if (digits() == 0) return std::nullopt;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (digits() == 0) return std::nullopt;
        }
        double out = 0;
        const auto [end, ec] = std::from_chars(s_.data() + start, s_.data() + i_, out);
        if (ec != std::errc{} || end != s_.data() + i_ || !std::isfinite(out)) return std::nullopt;
        return value{out};
    }

    std::optional<std::uint32_t> hex4() {
        if (i_ + 4 > s_.size()) return std::nullopt;
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else return std::nullopt;
        }
        return v;
    }

    static void append_utf8(std::string& out, std::uint32_t code) {
        if (code < 0x80) {
            out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (code >> 6)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else if (code < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (code >> 12)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (code >> 18)));
            out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

std::optional<object> parse(std::string_view text) {
    reader r(text);
    if (!r.eat('{')) return std::nullopt;
    object out;
    if (!r.eat('}')) {
        do {
            auto key = r.string();
            if (!key || !r.eat(':')) return std::nullopt;
            auto v = r.scalar();
            if (!v) return std::nullopt;
            out.insert_or_assign(std::move(*key), std::move(*v));
        } while (r.eat(','));
        if (!r.eat('}')) return std::nullopt;
    }
    if (!r.at_end()) return std::nullopt;
    return out;
}

const std::string* string_at(const object& o, std::string_view key) {
    auto it = o.find(key);
    return it == o.end() ? nullptr : std::get_if<std::string>(&it->second);
}

std::optional<long long> integer_at(const object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    const double* d = std::get_if<double>(&it->second);
    if (!d || std::trunc(*d) != *d || std::fabs(*d) > 9.0e15) return std::nullopt;
    return static_cast<long long>(*d);
}

std::string quote(std::string_view text) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += "\\u00";
                out.push_back(digits[(c >> 4) & 0xF]);
                out.push_back(digits[c & 0xF]);
            } else {
                out.push_back(c);
            }
        }
    }
    out.push_back('"');
    return out;
}

std::string write(const std::vector<std::pair<std::string_view, std::string>>& members) {
    std::string out = "{";
    for (const auto& [key, json] : members) {
        if (out.size() > 1) out.push_back(',');
        out += quote(key);
        out.push_back(':');
        out += json;
    }
    out.push_back('}');
    return out;
}

}  // namespace otaflash::flat_json
