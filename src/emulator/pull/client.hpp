#pragma once
// One HTTP or HTTPS exchange of an emulated pulling device (Boost.Beast on the run's event loop):
// a fresh connection per request, as the Arduino clients make them. The body can be cut on purpose
// after N bytes (a cellular link dropping mid-download). Asio and Beast stay in the .cpp.

#include "emulator/pull/checks.hpp"

#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace otaflash::net {
class event_loop;
}

namespace otaflash::emulator::pull {

struct http_url {
    bool tls = false;
    std::string host;
    std::uint16_t port = 80;
    std::string target = "/";  // path and query
};
// http://host[:port]/path or https://...; fails (usage_error) on anything else.
result<http_url> parse_url(std::string_view url);

struct http_request {
    std::string method = "GET";
    http_url url;
    header_list headers;
    bool http10 = false;  // the Arduino clients' useHTTP10(true)
    std::optional<std::uint64_t> drop_after;  // close the connection after this many body bytes
};

struct http_answer {
    unsigned status = 0;
    header_list headers;
    std::optional<std::uint64_t> content_length;
    bytes body;
    bool cut = false;  // dropped on purpose (drop_after)

    std::string header(std::string_view name) const;  // "" when absent; names in any case
};

struct tls_settings {
    std::string ca_file;  // verify the server against this CA (PEM); empty: the system's
};

void fetch(net::event_loop& loop, const tls_settings& tls, http_request request,
           std::function<void(result<http_answer>)> done);

}  // namespace otaflash::emulator::pull
