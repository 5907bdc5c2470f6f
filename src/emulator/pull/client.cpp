#include "emulator/pull/client.hpp"

#include "net/loop_detail.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>

namespace otaflash::emulator::pull {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;

result<http_url> parse_url(std::string_view url) {
    http_url u;
    std::string_view rest;
    if (url.starts_with("http://")) rest = url.substr(7);
    else if (url.starts_with("https://")) rest = url.substr(8), u.tls = true, u.port = 443;
    else return make_failure(errc::usage_error, "'" + std::string(url) + "' is not an http:// or https:// URL");
    const auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (authority.starts_with("[")) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return make_failure(errc::usage_error, "bad IPv6 literal in " + std::string(url));
        u.host = std::string(authority.substr(1, close - 1));
        authority = authority.substr(close + 1);
        if (!authority.empty() && authority[0] != ':') return make_failure(errc::usage_error, "bad host in " + std::string(url));
        authority = authority.empty() ? authority : authority.substr(1);
    } else {
        const auto colon = authority.rfind(':');
        u.host = std::string(authority.substr(0, colon));
        authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon + 1);
    }
    if (!authority.empty()) {
        unsigned port = 0;
        for (char c : authority) {
            if (!std::isdigit(static_cast<unsigned char>(c)) || (port = port * 10 + (c - '0')) > 65535)
                return make_failure(errc::usage_error, "bad port in " + std::string(url));
        }
        if (port == 0) return make_failure(errc::usage_error, "bad port in " + std::string(url));
        u.port = static_cast<std::uint16_t>(port);
    }
    if (u.host.empty()) return make_failure(errc::usage_error, "no host in " + std::string(url));
    return u;
}

std::string http_answer::header(std::string_view name) const {
    auto same = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    };
    for (const auto& [k, v] : headers)
        if (same(k, name)) return v;
    return {};
}

namespace {

constexpr auto op_timeout = std::chrono::seconds(30);

template <class Stream>
awaitable<http_answer> exchange(Stream& stream, const http_request& req) {
    http::request<http::empty_body> r{http::string_to_verb(req.method), req.url.target, req.http10 ? 10 : 11};
    const bool default_port = req.url.port == (req.url.tls ? 443 : 80);
    r.set(http::field::host, req.url.host + (default_port ? std::string() : ":" + std::to_string(req.url.port)));
    r.set(http::field::connection, "close");
    for (const auto& [k, v] : req.headers) r.set(k, v);
    beast::get_lowest_layer(stream).expires_after(op_timeout);
    co_await http::async_write(stream, r, use_awaitable);

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::uint64_t{64} << 20);
    parser.skip(req.method == "HEAD");
    co_await http::async_read_header(stream, buffer, parser, use_awaitable);
    http_answer a;
    a.status = parser.get().result_int();
    for (const auto& f : parser.get()) a.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    if (auto n = parser.content_length()) a.content_length = *n;
    std::array<std::uint8_t, 16384> chunk;
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        beast::error_code ec;
        beast::get_lowest_layer(stream).expires_after(op_timeout);
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = chunk.size() - parser.get().body().size;
        a.body.insert(a.body.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
        if (req.drop_after && a.body.size() >= *req.drop_after) {
            a.body.resize(*req.drop_after);
            a.cut = true;
            break;
        }
        if (ec) throw beast::system_error(ec);
    }
    co_return a;
}

awaitable<http_answer> run(asio::io_context& io, tls_settings tls, http_request req) {
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = co_await resolver.async_resolve(req.url.host, std::to_string(req.url.port), use_awaitable);
    if (!req.url.tls) {
        beast::tcp_stream stream(io);
        stream.expires_after(op_timeout);
        co_await stream.async_connect(endpoints, use_awaitable);
        auto a = co_await exchange(stream, req);
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        co_return a;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (tls.ca_file.empty()) ctx.set_default_verify_paths();
    else ctx.load_verify_file(tls.ca_file);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    stream.set_verify_callback(asio::ssl::host_name_verification(req.url.host));
    if (!SSL_set_tlsext_host_name(stream.native_handle(), req.url.host.c_str()))
        throw beast::system_error(beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()));
    beast::get_lowest_layer(stream).expires_after(op_timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, use_awaitable);
    auto a = co_await exchange(stream, req);
    beast::get_lowest_layer(stream).close();
    co_return a;
}

}  // namespace

void fetch(net::event_loop& loop, const tls_settings& tls, http_request request,
           std::function<void(result<http_answer>)> done) {
    const std::string where = (request.url.tls ? "https://" : "http://") + request.url.host + ":" +
                              std::to_string(request.url.port) + request.url.target;
    asio::co_spawn(loop.native().io, run(loop.native().io, tls, std::move(request)),
                   [done = std::move(done), where](std::exception_ptr e, http_answer a) {
                       if (!e) return done(std::move(a));
                       try {
                           std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                           done(make_failure(errc::connection_lost, where + ": " + x.what()));
                       }
                   });
}

}  // namespace otaflash::emulator::pull
