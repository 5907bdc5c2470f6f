#include <otaflash/proto/espota/messages.hpp>

#include <otaflash/util/hex.hpp>

#include <cctype>

namespace otaflash::espota {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && (std::isspace(static_cast<unsigned char>(text.back())) || text.back() == '\0'))
        text.remove_suffix(1);
    return text;
}

}  // namespace

std::string invitation(command cmd, std::uint16_t host_port, std::uint64_t size, std::string_view md5_hex) {
    std::string line = std::to_string(static_cast<unsigned>(cmd));
    line += ' ';
    line += std::to_string(host_port);
    line += ' ';
    line += std::to_string(size);
    line += ' ';
    for (char c : md5_hex) line += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    line += '\n';
    return line;
}

std::string auth_request(std::string_view cnonce, std::string_view response) {
    std::string line = std::to_string(auth_command);
    line.append(" ").append(cnonce).append(" ").append(response).append("\n");
    return line;
}

reply classify_reply(byte_view datagram) {
    const std::string_view text = trim(as_text(datagram));
    reply r;
    if (text == "OK") {
        r.kind = reply_kind::ok;
    } else if (text.starts_with("AUTH ")) {
        std::string_view nonce = trim(text.substr(5));
        // A datagram of 69 bytes holds "AUTH " and a 64-hex nonce; anything after a space is not ours.
        if (auto space = nonce.find(' '); space != std::string_view::npos) nonce = nonce.substr(0, space);
        r.kind = reply_kind::auth;
        r.nonce = std::string{nonce};
    } else if (text.starts_with("ERR")) {
        std::string_view rest = text.substr(3);
        if (!rest.empty() && rest.front() == ':') rest.remove_prefix(1);
        r.kind = reply_kind::error;
        r.text = std::string{trim(rest)};
    } else if (text == "Authentication Failed") {
        r.kind = reply_kind::auth_failed;
    } else {
        r.kind = reply_kind::other;
        r.text = std::string{text};
    }
    return r;
}

std::string printable(std::string_view text, std::size_t limit) {
    text = trim(text);
    std::string out;
    for (char c : text) {
        if (out.size() >= limit) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (u < 0x20 || u >= 0x7f) out += "\\x" + to_hex(byte_view{&u, 1});
        else out += c;
    }
    return out;
}

}  // namespace otaflash::espota
