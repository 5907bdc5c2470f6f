#include <otaflash/proto/mdns/message.hpp>

#include <stdexcept>

namespace otaflash::mdns {
namespace {

void append_be16(bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
void append_be32(bytes& out, std::uint32_t v) {
    append_be16(out, static_cast<std::uint16_t>(v >> 16));
    append_be16(out, static_cast<std::uint16_t>(v));
}

void append_name(bytes& out, const std::string& name) {
    if (name.size() > 253) throw std::invalid_argument("DNS name too long: " + name);
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        const std::size_t len = dot - start;
        if (len == 0 || len > 63) throw std::invalid_argument("bad DNS label in " + name);
        out.push_back(static_cast<std::uint8_t>(len));
        out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
                   name.begin() + static_cast<std::ptrdiff_t>(dot));
        start = dot + 1;
    }
    out.push_back(0);
}

void append_record(bytes& out, const record& r) {
    append_name(out, r.name);
    append_be16(out, static_cast<std::uint16_t>(r.type));
    append_be16(out, static_cast<std::uint16_t>(class_in | (r.cache_flush ? 0x8000 : 0)));
    append_be32(out, r.ttl);
    bytes data;
    switch (r.type) {
    case rr_type::a: data.assign(r.address.begin(), r.address.begin() + 4); break;
    case rr_type::aaaa: data.assign(r.address.begin(), r.address.end()); break;
    case rr_type::ptr: append_name(data, r.target); break;
    case rr_type::srv:
        append_be16(data, r.priority);
        append_be16(data, r.weight);
        append_be16(data, r.port);
        append_name(data, r.target);
        break;
    case rr_type::txt:
        for (const auto& s : r.txt) {
            if (s.size() > 255) throw std::invalid_argument("TXT string too long");
            data.push_back(static_cast<std::uint8_t>(s.size()));
            data.insert(data.end(), s.begin(), s.end());
        }
        if (r.txt.empty()) data.push_back(0);  // RFC 6763 §6.1: never empty rdata
        break;
    case rr_type::any: break;
    }
    append_be16(out, static_cast<std::uint16_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
}

class reader {
public:
    explicit reader(byte_view d) : d_(d) {}
    bool u8(std::uint8_t& v) {
        if (pos_ + 1 > d_.size()) return false;
        v = d_[pos_++];
        return true;
    }
    bool u16(std::uint16_t& v) {
        if (pos_ + 2 > d_.size()) return false;
        v = static_cast<std::uint16_t>((d_[pos_] << 8) | d_[pos_ + 1]);
        pos_ += 2;
        return true;
    }
    bool u32(std::uint32_t& v) {
        std::uint16_t hi, lo;
        if (!u16(hi) || !u16(lo)) return false;
        v = (static_cast<std::uint32_t>(hi) << 16) | lo;
        return true;
    }
    // Reads a possibly compressed name starting at the cursor.
    bool name(std::string& out) {
        out.clear();
        std::size_t at = pos_;
        bool jumped = false;
        for (int hops = 0; hops <= 32;) {
            if (at >= d_.size()) return false;
            const std::uint8_t len = d_[at];
            if (len == 0) {
                if (!jumped) pos_ = at + 1;
                return true;
            }
            if ((len & 0xC0) == 0xC0) {
                if (at + 1 >= d_.size()) return false;
                const std::size_t target = static_cast<std::size_t>(((len & 0x3F) << 8) | d_[at + 1]);
                if (target >= at) return false;  // only backwards: no loops
                if (!jumped) pos_ = at + 2;
                jumped = true;
                at = target;
                ++hops;
                continue;
            }
            if ((len & 0xC0) != 0 || at + 1 + len > d_.size()) return false;
            if (!out.empty()) out.push_back('.');
            out.append(reinterpret_cast<const char*>(d_.data() + at + 1), len);
            if (out.size() > 255) return false;
            at += 1 + len;
        }
        return false;
    }
    std::size_t pos() const { return pos_; }
    void seek(std::size_t p) { pos_ = p; }
    std::size_t size() const { return d_.size(); }
    byte_view data() const { return d_; }

private:
    byte_view d_;
    std::size_t pos_ = 0;
};

failure malformed(const std::string& what) {
    return make_failure(errc::protocol_violation, "malformed mDNS message: " + what);
}

result<record> read_record(reader& in) {
    record r;
    std::uint16_t type, cls, rdlen;
    if (!in.name(r.name) || !in.u16(type) || !in.u16(cls) || !in.u32(r.ttl) || !in.u16(rdlen))
        return malformed("truncated record header");
    r.type = static_cast<rr_type>(type);
    r.cache_flush = (cls & 0x8000) != 0;
    const std::size_t end = in.pos() + rdlen;
    if (end > in.size()) return malformed("record data past the end");
    switch (r.type) {
    case rr_type::a:
        if (rdlen != 4) return malformed("A record of " + std::to_string(rdlen) + " bytes");
        for (int i = 0; i < 4; ++i) r.address[static_cast<std::size_t>(i)] = in.data()[in.pos() + static_cast<std::size_t>(i)];
        break;
    case rr_type::aaaa:
        if (rdlen != 16) return malformed("AAAA record of " + std::to_string(rdlen) + " bytes");
        for (int i = 0; i < 16; ++i) r.address[static_cast<std::size_t>(i)] = in.data()[in.pos() + static_cast<std::size_t>(i)];
        break;
    case rr_type::ptr:
        if (!in.name(r.target) || in.pos() > end) return malformed("bad PTR target");
        break;
    case rr_type::srv:
        if (!in.u16(r.priority) || !in.u16(r.weight) || !in.u16(r.port) || !in.name(r.target) || in.pos() > end)
            return malformed("bad SRV record");
        break;
    case rr_type::txt: {
        std::size_t at = in.pos();
        while (at < end) {
            const std::size_t len = in.data()[at];
            if (at + 1 + len > end) return malformed("TXT string past the record");
            if (len > 0) r.txt.emplace_back(reinterpret_cast<const char*>(in.data().data() + at + 1), len);
            at += 1 + len;
        }
        break;
    }
    default: break;
    }
    in.seek(end);
    return r;
}

}  // namespace

bytes encode(const message& msg) {
    bytes out;
    append_be16(out, msg.id);
    std::uint16_t flags = 0;
    if (msg.response) flags |= 0x8000;
    if (msg.authoritative) flags |= 0x0400;
    append_be16(out, flags);
    append_be16(out, static_cast<std::uint16_t>(msg.questions.size()));
    append_be16(out, static_cast<std::uint16_t>(msg.answers.size()));
    append_be16(out, static_cast<std::uint16_t>(msg.authorities.size()));
    append_be16(out, static_cast<std::uint16_t>(msg.additionals.size()));
    for (const auto& q : msg.questions) {
        append_name(out, q.name);
        append_be16(out, static_cast<std::uint16_t>(q.type));
        append_be16(out, static_cast<std::uint16_t>(class_in | (q.unicast_response ? 0x8000 : 0)));
    }
    for (const auto* section : {&msg.answers, &msg.authorities, &msg.additionals})
        for (const auto& r : *section) append_record(out, r);
    return out;
}

result<message> decode(byte_view datagram) {
    reader in{datagram};
    message msg;
    std::uint16_t flags, qd, an, ns, ar;
    if (!in.u16(msg.id) || !in.u16(flags) || !in.u16(qd) || !in.u16(an) || !in.u16(ns) || !in.u16(ar))
        return malformed("shorter than a header");
    msg.response = (flags & 0x8000) != 0;
    msg.authoritative = (flags & 0x0400) != 0;
    // Each question takes at least 5 bytes and each record 11: counts beyond that are lies.
    if (static_cast<std::size_t>(qd) * 5 + (static_cast<std::size_t>(an) + ns + ar) * 11 > datagram.size())
        return malformed("section counts larger than the datagram");
    for (int i = 0; i < qd; ++i) {
        question q;
        std::uint16_t type, cls;
        if (!in.name(q.name) || !in.u16(type) || !in.u16(cls)) return malformed("truncated question");
        q.type = static_cast<rr_type>(type);
        q.unicast_response = (cls & 0x8000) != 0;
        msg.questions.push_back(std::move(q));
    }
    for (auto [section, count] : {std::pair{&msg.answers, an}, std::pair{&msg.authorities, ns}, std::pair{&msg.additionals, ar}}) {
        for (int i = 0; i < count; ++i) {
            auto r = read_record(in);
            if (!r) return std::move(r).error();
            section->push_back(std::move(r).value());
        }
    }
    return msg;
}

std::string address_text(const record& r) {
    if (r.type == rr_type::a)
        return std::to_string(r.address[0]) + "." + std::to_string(r.address[1]) + "." + std::to_string(r.address[2]) +
               "." + std::to_string(r.address[3]);
    // RFC 5952 short form: lowercase, leading zeros dropped, the longest run of zero groups as "::".
    std::array<std::uint16_t, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i) groups[i] = static_cast<std::uint16_t>((r.address[2 * i] << 8) | r.address[2 * i + 1]);
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (groups[static_cast<std::size_t>(i)] != 0) { ++i; continue; }
        int j = i;
        while (j < 8 && groups[static_cast<std::size_t>(j)] == 0) ++j;
        if (j - i > best_len && j - i >= 2) { best = i; best_len = j - i; }
        i = j;
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i) {
        if (i == best) {
            out += "::";
            i += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out.push_back(':');
        std::uint16_t g = groups[static_cast<std::size_t>(i)];
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int d = (g >> shift) & 0xF;
            if (d || started || shift == 0) { out.push_back(digits[d]); started = true; }
        }
    }
    return out;
}

}  // namespace otaflash::mdns
