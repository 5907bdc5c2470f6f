#include <otaflash/proto/rom/reset.hpp>

#include <charconv>
#include <cmath>
#include <optional>

namespace otaflash::rom {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

reset_step dtr(bool v) { return {reset_step::kind::dtr, v, false, {}}; }
reset_step rts(bool v) { return {reset_step::kind::rts, false, v, {}}; }
reset_step both(bool d, bool r) { return {reset_step::kind::both, d, r, {}}; }
reset_step wait(microseconds w) { return {reset_step::kind::wait, false, false, w}; }

std::string seconds_text(microseconds us) {
    // Whole microseconds as a decimal number of seconds without trailing zeros: 100000 → "0.1".
    const auto whole = us.count() / 1000000;
    auto frac = us.count() % 1000000;
    std::string text = std::to_string(whole);
    if (frac != 0) {
        std::string digits = std::to_string(frac);
        digits.insert(0, 6 - digits.size(), '0');
        while (!digits.empty() && digits.back() == '0') digits.pop_back();
        text += "." + digits;
    }
    return text;
}

failure bad_sequence(std::string_view token, std::string_view why) {
    return make_failure(errc::usage_error,
                        "bad reset sequence step '" + std::string(token) + "': " + std::string(why),
                        "steps are D0/D1 (DTR), R0/R1 (RTS), U<dtr>,<rts> (both at once) and W<seconds>, "
                        "separated by '|', e.g. D0|R1|W0.1|D1|R0|W0.05|D0");
}

std::optional<bool> level(std::string_view text) {
    if (text == "0") return false;
    if (text == "1") return true;
    return std::nullopt;
}

}  // namespace

reset_sequence classic_reset(milliseconds delay) {
    return {"classic",
            {dtr(false), rts(true), wait(milliseconds(100)), dtr(true), rts(false), wait(delay), dtr(false)}};
}

reset_sequence unix_tight_reset(milliseconds delay) {
    return {"unix-tight",
            {both(false, false), both(true, true), both(false, true), wait(milliseconds(100)), both(true, false),
             wait(delay), both(false, false), dtr(false)}};
}

reset_sequence usb_jtag_serial_reset() {
    return {"usb-jtag-serial",
            {rts(false), dtr(false), wait(milliseconds(100)), dtr(true), rts(false), wait(milliseconds(100)),
             rts(true), dtr(false), rts(true), wait(milliseconds(100)), dtr(false), rts(false)}};
}

reset_sequence hard_reset(bool usb) {
    if (usb) return {"hard-reset-usb", {rts(true), wait(milliseconds(200)), rts(false), wait(milliseconds(200))}};
    return {"hard-reset", {rts(true), wait(milliseconds(100)), rts(false)}};
}

std::string to_string(const reset_sequence& seq) {
    std::string text;
    for (const auto& step : seq.steps) {
        if (!text.empty()) text += '|';
        switch (step.what) {
        case reset_step::kind::dtr: text += step.dtr ? "D1" : "D0"; break;
        case reset_step::kind::rts: text += step.rts ? "R1" : "R0"; break;
        case reset_step::kind::both:
            text += std::string("U") + (step.dtr ? "1" : "0") + "," + (step.rts ? "1" : "0");
            break;
        case reset_step::kind::wait: text += "W" + seconds_text(step.wait); break;
        }
    }
    return text;
}

result<reset_sequence> parse_reset_sequence(std::string_view text) {
    reset_sequence seq{"custom", {}};
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t bar = text.find('|', start);
        std::string_view token = text.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
        start = bar == std::string_view::npos ? text.size() + 1 : bar + 1;
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        if (token.empty()) return bad_sequence(token, "empty step");
        const char code = token.front();
        const std::string_view arg = token.substr(1);
        if (code == 'D' || code == 'R') {
            auto v = level(arg);
            if (!v) return bad_sequence(token, "the level must be 0 or 1");
            seq.steps.push_back(code == 'D' ? dtr(*v) : rts(*v));
        } else if (code == 'U') {
            const auto comma = arg.find(',');
            if (comma == std::string_view::npos) return bad_sequence(token, "U needs two levels, DTR and RTS, like U0,1");
            auto d = level(arg.substr(0, comma));
            auto r = level(arg.substr(comma + 1));
            if (!d || !r) return bad_sequence(token, "the levels must be 0 or 1");
            seq.steps.push_back(both(*d, *r));
        } else if (code == 'W') {
            double seconds = 0;
            auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), seconds);
            if (ec != std::errc{} || end != arg.data() + arg.size() || !std::isfinite(seconds) || seconds < 0 ||
                seconds > 10)
                return bad_sequence(token, "the wait must be a number of seconds between 0 and 10");
            seq.steps.push_back(wait(microseconds(static_cast<long long>(std::llround(seconds * 1e6)))));
        } else {
            return bad_sequence(token, "unknown step (expected D, R, U or W)");
        }
    }
    return seq;
}

std::vector<reset_sequence> connect_strategies(before_reset before) {
    switch (before) {
    case before_reset::no_reset: return {};
    case before_reset::usb_reset: return {usb_jtag_serial_reset()};
    case before_reset::default_reset: break;
    }
    return {unix_tight_reset(reset_delay_short), unix_tight_reset(reset_delay_long), classic_reset(reset_delay_short),
            classic_reset(reset_delay_long)};
}

result<bool> run_reset(port& p, const reset_sequence& seq) {
    bool dtr_level = false;
    bool rts_level = false;
    bool lines = true;
    for (const auto& step : seq.steps) {
        switch (step.what) {
        case reset_step::kind::dtr: dtr_level = step.dtr; break;
        case reset_step::kind::rts: rts_level = step.rts; break;
        case reset_step::kind::both:
            dtr_level = step.dtr;
            rts_level = step.rts;
            break;
        case reset_step::kind::wait: {
            auto slept = p.sleep_until(p.now() + step.wait);
            if (!slept) return std::move(slept).error();
            continue;
        }
        }
        // Once the port said it has no lines, keep the waits (the timing a user asked for) but
        // stop asking.
        if (!lines) continue;
        auto set = p.set_lines(dtr_level, rts_level);
        if (!set) return std::move(set).error();
        lines = *set;
    }
    return lines;
}

}  // namespace otaflash::rom
