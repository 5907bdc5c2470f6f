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
#include <vector>

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
    // HTTPClient::begin() would take user:password@ as Basic credentials; here they would show in
    // the process list and in every event, so the URL is not repeated either.
    if (authority.find('@') != std::string_view::npos)
        return make_failure(errc::usage_error, "the URL holds credentials (user:password@host)",
                            "drop them from the URL; give --user with OTAFLASH_DEVICE_PASSWORD or --password-file");
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

// co_spawn hands back a default-constructed value when the coroutine throws: a plain struct.
struct attempt {
    std::optional<failure> error;
    http_answer answer;
};

class exchange_run {
public:
    exchange_run(asio::io_context& io, const client_settings& settings, http_request request)
        : io_(io), settings_(settings), req_(std::move(request)),
          where_((req_.url.tls ? "https://" : "http://") + req_.url.host + ":" + std::to_string(req_.url.port) +
                 req_.url.target) {}

    awaitable<attempt> run() {
        attempt out;
        auto endpoints = co_await resolve(out);
        if (out.error) co_return out;
        beast::tcp_stream tcp(io_);
        co_await connect(tcp, endpoints, out);
        if (out.error) co_return out;
        if (!req_.url.tls) {
            co_await exchange(tcp, out);
            beast::error_code ignored;
            tcp.socket().close(ignored);
            co_return out;
        }
        asio::ssl::context ctx(asio::ssl::context::tls_client);
        ctx.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
        beast::error_code ec;
        if (settings_.insecure) ctx.set_verify_mode(asio::ssl::verify_none);
        else {
            ctx.set_verify_mode(asio::ssl::verify_peer);
            if (settings_.ca_file.empty()) ctx.set_default_verify_paths(ec);
            else ctx.load_verify_file(settings_.ca_file, ec);
            if (ec) {
                fail(out, errc::connection_lost, "cannot load the CA certificate '" + settings_.ca_file + "'", ec,
                     "give a PEM file with --ca-cert");
                co_return out;
            }
        }
        beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), ctx);
        if (!settings_.insecure) stream.set_verify_callback(asio::ssl::host_name_verification(req_.url.host));
        beast::error_code literal;
        asio::ip::make_address(req_.url.host, literal);
        // SNI carries names only, never addresses.
        if (literal) SSL_set_tlsext_host_name(stream.native_handle(), req_.url.host.c_str());
        beast::get_lowest_layer(stream).expires_after(settings_.timeout);
        co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
        if (ec) {
            fail(out, errc::connection_lost, "TLS handshake failed", ec,
                 settings_.insecure ? "" : "trust the server's CA with --ca-cert FILE (or test with --insecure)");
            co_return out;
        }
        co_await exchange(stream, out);
        beast::get_lowest_layer(stream).socket().close(ec);
        co_return out;
    }

private:
    void fail(attempt& out, errc code, const std::string& what, const beast::error_code& ec, std::string hint = {}) const {
        std::string why = ec == beast::error::timeout ? "no progress for " + std::to_string(settings_.timeout.count()) + " ms"
                                                       : ec.message();
        out.error = make_failure(code, where_ + ": " + what + (ec ? ": " + why : std::string()), std::move(hint));
    }

    awaitable<std::vector<asio::ip::tcp::endpoint>> resolve(attempt& out) {
        std::vector<asio::ip::tcp::endpoint> endpoints;
        beast::error_code ec;
        const auto address = asio::ip::make_address(req_.url.host, ec);
        if (!ec) {
            endpoints.emplace_back(address, req_.url.port);
            co_return endpoints;
        }
        asio::ip::tcp::resolver resolver(io_);
        asio::steady_timer deadline(io_);
        deadline.expires_after(settings_.timeout);
        deadline.async_wait([&resolver](const beast::error_code& e) {
            if (!e) resolver.cancel();
        });
        auto found = co_await resolver.async_resolve(req_.url.host, std::to_string(req_.url.port),
                                                     asio::redirect_error(use_awaitable, ec));
        deadline.cancel();
        if (ec) {
            fail(out, errc::host_not_found, "cannot resolve '" + req_.url.host + "'", ec);
            co_return endpoints;
        }
        for (const auto& entry : found) endpoints.push_back(entry.endpoint());
        co_return endpoints;
    }

    // One endpoint after another; the socket is opened by hand so that the receive window can be
    // set before the SYN carries it.
    awaitable<void> connect(beast::tcp_stream& tcp, const std::vector<asio::ip::tcp::endpoint>& endpoints, attempt& out) {
        beast::error_code ec = asio::error::host_not_found;
        for (const auto& endpoint : endpoints) {
            beast::error_code ignored;
            tcp.socket().close(ignored);
            tcp.socket().open(endpoint.protocol(), ec);
            if (ec) continue;
            if (settings_.rx_window)
                tcp.socket().set_option(asio::socket_base::receive_buffer_size(static_cast<int>(settings_.rx_window)), ignored);
            tcp.expires_after(settings_.timeout);
            co_await tcp.async_connect(endpoint, asio::redirect_error(use_awaitable, ec));
            if (!ec) co_return;
        }
        fail(out, errc::host_not_found, "cannot connect", ec, "is the server running, and is the URL right?");
    }

    template <class Stream>
    awaitable<void> exchange(Stream& stream, attempt& out) {
        http::request<http::empty_body> r{http::verb::get, req_.url.target, req_.http10 ? 10 : 11};
        const bool default_port = req_.url.port == (req_.url.tls ? 443 : 80);
        r.set(http::field::host, req_.url.host + (default_port ? std::string() : ":" + std::to_string(req_.url.port)));
        r.set(http::field::connection, "close");
        for (const auto& [k, v] : req_.headers) r.set(k, v);
        auto& tcp = beast::get_lowest_layer(stream);
        beast::error_code ec;
        tcp.expires_after(settings_.timeout);
        co_await http::async_write(stream, r, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return fail(out, errc::connection_lost, "sending the request failed", ec);

        beast::flat_buffer buffer;
        http::response_parser<http::buffer_body> parser;
        parser.body_limit(std::uint64_t{64} << 20);
        tcp.expires_after(settings_.timeout);
        co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return fail(out, errc::connection_lost, "no answer", ec);
        http_answer& a = out.answer;
        a.status = parser.get().result_int();
        for (const auto& f : parser.get()) a.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
        if (auto n = parser.content_length()) a.content_length = *n;
        const body_use use = req_.on_head ? req_.on_head(a) : body_use::keep;
        if (use == body_use::skip) {
            a.skipped = true;
            co_return;
        }
        std::array<std::uint8_t, 16384> chunk;
        while (!parser.is_done()) {
            parser.get().body().data = chunk.data();
            parser.get().body().size = chunk.size();
            tcp.expires_after(settings_.timeout);
            co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
            if (ec == http::error::need_buffer) ec = {};
            std::uint64_t got = chunk.size() - parser.get().body().size;
            if (req_.drop_after) got = std::min(got, *req_.drop_after - a.received);
            const byte_view piece(chunk.data(), static_cast<std::size_t>(got));
            if (use == body_use::stream) {
                req_.stream(piece);
            } else if (a.body.size() + piece.size() > keep_limit) {
                co_return fail(out, errc::protocol_violation, "the answer is larger than 1 MiB", {});
            } else {
                a.body.insert(a.body.end(), piece.begin(), piece.end());
            }
            a.received += got;
            if (req_.drop_after && a.received >= *req_.drop_after) {
                a.cut = true;
                // Unread data makes the close a reset, as when a link vanishes.
                beast::error_code ignored;
                tcp.socket().close(ignored);
                co_return;
            }
            if (ec) co_return fail(out, errc::connection_lost, "the body broke off after " + std::to_string(a.received) + " bytes", ec);
        }
    }

    static constexpr std::size_t keep_limit = std::size_t{1} << 20;

    asio::io_context& io_;
    const client_settings& settings_;
    http_request req_;
    std::string where_;
};

awaitable<attempt> run(asio::io_context& io, client_settings settings, http_request request) {
    exchange_run run(io, settings, std::move(request));
    co_return co_await run.run();
}

}  // namespace

void fetch(net::event_loop& loop, const client_settings& settings, http_request request,
           std::function<void(result<http_answer>)> done) {
    asio::co_spawn(loop.native().io, run(loop.native().io, settings, std::move(request)),
                   [done = std::move(done)](std::exception_ptr e, attempt a) {
                       if (e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& x) {
                               return done(make_failure(errc::internal_error, x.what()));
                           }
                       }
                       if (a.error) return done(std::move(*a.error));
                       done(std::move(a.answer));
                   });
}

}  // namespace otaflash::emulator::pull
