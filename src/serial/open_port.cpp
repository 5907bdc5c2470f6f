#include <otaflash/serial/port.hpp>

#include "serial/tty_port.hpp"

namespace otaflash::serial {

port_kind kind_of(std::string_view spec) noexcept {
    if (spec.starts_with("rfc2217://")) return port_kind::rfc2217;
    if (spec.starts_with("socket://")) return port_kind::socket;
    return port_kind::serial;
}

result<std::unique_ptr<rom::port>> open_port(const std::string& spec, const port_options& options, log_sink& log) {
    const port_kind kind = kind_of(spec);
    if (kind == port_kind::serial) return detail::open_tty(spec, options, log);
    std::string rest = spec.substr(kind == port_kind::rfc2217 ? 10 : 9);
    if (auto q = rest.find_first_of("/?"); q != std::string::npos) rest.resize(q);  // pyserial-style options
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size())
        return make_failure(errc::usage_error, "port '" + spec + "' names no host and TCP port",
                            "write it as rfc2217://HOST:PORT or socket://HOST:PORT");
    std::string host = rest.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return detail::open_tcp(host, rest.substr(colon + 1), kind == port_kind::rfc2217, spec, options, log);
}

}  // namespace otaflash::serial
