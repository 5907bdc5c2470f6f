#include <otaflash/proto/mdns/dns_sd.hpp>

#include <algorithm>
#include <cctype>

namespace otaflash::mdns {
namespace {

bool same_name(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string first_label(const std::string& name) { return name.substr(0, name.find('.')); }

template <class F>
void each_record(const message& msg, F&& f) {
    for (const auto* section : {&msg.answers, &msg.authorities, &msg.additionals})
        for (const auto& r : *section) f(r);
}

void add_address(std::vector<std::string>& list, const record& r) {
    std::string text = address_text(r);
    if (std::find(list.begin(), list.end(), text) != list.end()) return;
    if (r.type == rr_type::a)
        list.insert(std::find_if(list.begin(), list.end(), [](const std::string& a) { return a.find(':') != std::string::npos; }),
                    std::move(text));
    else
        list.push_back(std::move(text));
}

}  // namespace

message browse_query(const std::string& service) {
    message q;
    q.questions.push_back({service, rr_type::ptr, false});
    return q;
}

message address_query(const std::string& host) {
    message q;
    q.questions.push_back({host, rr_type::a, false});
    q.questions.push_back({host, rr_type::aaaa, false});
    return q;
}

browse_collector::browse_collector(std::string service) : service_(std::move(service)) {}

void browse_collector::add(const message& msg) {
    if (!msg.response) return;
    // Two passes: PTR records name the instances, then SRV/TXT/A/AAAA fill them in, whatever
    // order the sections came in.
    each_record(msg, [&](const record& r) {
        if (r.type == rr_type::ptr && same_name(r.name, service_) && !r.target.empty()) {
            auto key = lower(r.target);
            auto& inst = by_instance_[key];
            inst.instance = r.target;
            inst.name = first_label(r.target);
        }
    });
    each_record(msg, [&](const record& r) {
        if (r.type == rr_type::a || r.type == rr_type::aaaa) {
            add_address(addresses_by_host_[lower(r.name)], r);
            return;
        }
        auto it = by_instance_.find(lower(r.name));
        if (it == by_instance_.end()) return;
        if (r.type == rr_type::srv) {
            it->second.host = r.target;
            it->second.port = r.port;
        } else if (r.type == rr_type::txt) {
            for (const auto& kv : r.txt) {
                auto eq = kv.find('=');
                it->second.txt[lower(kv.substr(0, eq))] = eq == std::string::npos ? std::string{} : kv.substr(eq + 1);
            }
        }
    });
}

std::vector<service_instance> browse_collector::instances() const {
    std::vector<service_instance> out;
    for (const auto& [key, inst] : by_instance_) {
        service_instance copy = inst;
        if (auto it = addresses_by_host_.find(lower(inst.host)); it != addresses_by_host_.end())
            copy.addresses = it->second;
        out.push_back(std::move(copy));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

std::optional<message> browse_collector::follow_up() const {
    message q;
    for (const auto& inst : instances()) {
        if (inst.port == 0) q.questions.push_back({inst.instance, rr_type::srv, false});
        if (inst.txt.empty()) q.questions.push_back({inst.instance, rr_type::txt, false});
        if (!inst.host.empty() && inst.addresses.empty()) q.questions.push_back({inst.host, rr_type::a, false});
    }
    if (q.questions.empty()) return std::nullopt;
    return q;
}

std::vector<std::string> addresses_for(const message& msg, const std::string& host) {
    std::vector<std::string> out;
    if (!msg.response) return out;
    each_record(msg, [&](const record& r) {
        if ((r.type == rr_type::a || r.type == rr_type::aaaa) && same_name(r.name, host)) add_address(out, r);
    });
    return out;
}

result<std::map<std::string, std::string>> parse_txt_filter(std::string_view filter) {
    std::map<std::string, std::string> out;
    while (!filter.empty()) {
        auto comma = filter.find(',');
        std::string_view item = filter.substr(0, comma);
        filter = comma == std::string_view::npos ? std::string_view{} : filter.substr(comma + 1);
        auto eq = item.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return make_failure(errc::usage_error, "bad discovery filter '" + std::string(item) + "'",
                                "write KEY=VALUE, e.g. board=d1_mini (several separated by commas)");
        out[lower(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    }
    return out;
}

bool matches(const service_instance& device, const std::map<std::string, std::string>& filter) {
    for (const auto& [key, value] : filter) {
        auto it = device.txt.find(key);
        if (it == device.txt.end() || it->second != value) return false;
    }
    return true;
}

std::optional<message> answer(const message& query, const advertisement& ad) {
    if (query.response) return std::nullopt;
    const std::string host = ad.hostname + ".local";
    const std::string instance = ad.hostname + "." + ad.service;
    auto ptr = [&] { record r; r.name = ad.service; r.type = rr_type::ptr; r.target = instance; r.ttl = 4500; return r; };
    auto srv = [&] { record r; r.name = instance; r.type = rr_type::srv; r.cache_flush = true; r.target = host; r.port = ad.port; return r; };
    auto txt = [&] { record r; r.name = instance; r.type = rr_type::txt; r.cache_flush = true; r.txt = ad.txt; r.ttl = 4500; return r; };
    auto addresses = [&](std::vector<record>& into, bool v4, bool v6) {
        auto add = [&](rr_type type, const auto& bytes) {
            record r;
            r.name = host;
            r.type = type;
            r.cache_flush = true;
            std::copy(bytes.begin(), bytes.end(), r.address.begin());
            into.push_back(r);
        };
        if (v4)
            for (const auto& a : ad.ipv4) add(rr_type::a, a);
        if (v6)
            for (const auto& a : ad.ipv6) add(rr_type::aaaa, a);
    };
    message reply;
    reply.response = true;
    reply.authoritative = true;
    for (const auto& q : query.questions) {
        const bool any = q.type == rr_type::any;
        if (same_name(q.name, ad.service) && (any || q.type == rr_type::ptr)) {
            reply.answers.push_back(ptr());
            reply.additionals.push_back(srv());
            reply.additionals.push_back(txt());
            addresses(reply.additionals, true, true);
        } else if (same_name(q.name, instance)) {
            if (any || q.type == rr_type::srv) reply.answers.push_back(srv());
            if (any || q.type == rr_type::txt) reply.answers.push_back(txt());
            addresses(reply.additionals, true, true);
        } else if (same_name(q.name, host)) {
            addresses(reply.answers, any || q.type == rr_type::a, any || q.type == rr_type::aaaa);
        }
    }
    if (reply.answers.empty()) return std::nullopt;
    return reply;
}

bool has_shared_answer(const message& reply) {
    return std::any_of(reply.answers.begin(), reply.answers.end(), [](const record& r) { return r.type == rr_type::ptr; });
}

message legacy_reply(message reply, const message& query) {
    constexpr std::uint32_t legacy_ttl_limit = 10;
    reply.id = query.id;
    reply.questions = query.questions;
    for (auto& q : reply.questions) q.unicast_response = false;
    for (auto* section : {&reply.answers, &reply.authorities, &reply.additionals})
        for (auto& r : *section) {
            r.cache_flush = false;
            r.ttl = std::min(r.ttl, legacy_ttl_limit);
        }
    return reply;
}

}  // namespace otaflash::mdns
