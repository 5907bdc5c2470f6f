#include <otaflash/proto/rom/boot_log.hpp>

#include <algorithm>
#include <array>
#include <string_view>

namespace otaflash::rom {
namespace {

bool printable(std::uint8_t c) { return (c >= 0x20 && c < 0x7F) || c == '\r' || c == '\n' || c == '\t'; }

// The line of `text` around `at`, trimmed to something a message can quote.
std::string line_around(std::string_view text, std::size_t at) {
    std::size_t begin = text.rfind('\n', at);
    begin = begin == std::string_view::npos ? 0 : begin + 1;
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string line;
    for (char c : text.substr(begin, end - begin)) {
        const auto u = static_cast<std::uint8_t>(c);
        if (c == '\r' || c == '\t') continue;
        line += (u >= 0x20 && u < 0x7F) ? c : '.';
        if (line.size() >= 100) break;
    }
    return line;
}

std::string last_text_line(std::string_view text) {
    std::size_t end = text.size();
    while (end > 0) {
        std::size_t begin = text.rfind('\n', end - 1);
        begin = begin == std::string_view::npos ? 0 : begin + 1;
        std::string line = line_around(text, begin);
        if (std::any_of(line.begin(), line.end(), [](char c) { return c != ' ' && c != '.'; })) return line;
        if (begin == 0) break;
        end = begin - 1;
    }
    return {};
}

}  // namespace

boot_evidence read_boot_evidence(byte_view noise) {
    boot_evidence evidence;
    if (noise.empty()) return evidence;
    const std::string_view text = as_text(noise);

    // ESP32 family: "rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))"
    // then "waiting for download" when the straps selected download mode.
    if (auto at = text.rfind("boot:0x"); at != std::string_view::npos) {
        std::size_t end = at + 5;
        while (end < text.size() && text[end] != ',' && text[end] != '\r' && text[end] != '\n') ++end;
        evidence.boot_mode = std::string(text.substr(at + 5, end - at - 5));
        evidence.excerpt = line_around(text, at);
        const bool download = text.find("waiting for download", at) != std::string_view::npos ||
                              evidence.boot_mode.find("DOWNLOAD") != std::string::npos;
        evidence.what = download ? boot_evidence::kind::download_mode : boot_evidence::kind::normal_boot;
        return evidence;
    }
    // ESP8266: "ets Jan  8 2013,rst cause:2, boot mode:(3,6)"; the first number 1 is UART download.
    if (auto at = text.rfind("boot mode:("); at != std::string_view::npos) {
        const std::size_t open = at + 10;
        const std::size_t close = text.find(')', open);
        evidence.boot_mode = std::string(text.substr(open, close == std::string_view::npos ? 0 : close - open + 1));
        evidence.excerpt = line_around(text, at);
        const bool download = open + 1 < text.size() && text[open + 1] == '1';
        evidence.what = download ? boot_evidence::kind::download_mode : boot_evidence::kind::normal_boot;
        return evidence;
    }
    static constexpr std::array<std::string_view, 6> panic_marks = {
        "Guru Meditation", "abort() was called", "Backtrace:", "Fatal exception", "Exception (", "Rebooting..."};
    for (auto mark : panic_marks) {
        if (auto at = text.find(mark); at != std::string_view::npos) {
            evidence.what = boot_evidence::kind::panic;
            evidence.excerpt = line_around(text, at);
            return evidence;
        }
    }
    const auto readable = static_cast<std::size_t>(std::count_if(noise.begin(), noise.end(), printable));
    if (readable * 10 >= noise.size() * 8) {
        evidence.what = boot_evidence::kind::application_text;
        evidence.excerpt = last_text_line(text);
    } else {
        evidence.what = boot_evidence::kind::unreadable;
    }
    return evidence;
}

}  // namespace otaflash::rom
