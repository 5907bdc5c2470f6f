// One HTTP or HTTPS connection: read a request head (Beast's parser, size- and time-limited),
// ask proto::pull::decide what to answer, write it (Content-Length always, never chunked), and
// report one device_event per request. A body comes from the release's bytes held in memory
// (a shared_ptr kept for the whole transfer), so a transfer never mixes two files.

#include "net/loop_detail.hpp"
#include "server/http/server_state.hpp"

#include <otaflash/proto/pull/credentials.hpp>
#include <otaflash/util/endpoint_text.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include <array>
#include <chrono>
#include <optional>
#include <type_traits>

namespace otaflash::server::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr std::size_t chunk_size = 256 * 1024;           // one write of a body (a progress event each)
constexpr auto closing_time = std::chrono::seconds(2);    // reading what the peer still sends before closing

// Host header → "http://host:port" for absolute URLs in manifests; the local address when absent or odd.
std::string base_url(std::string_view scheme, std::string_view host, const tcp::endpoint& local) {
    bool plain = !host.empty() && host.size() < 256;
    for (char c : host)
        plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']');
    if (plain) return std::string(scheme) + "://" + std::string(host);
    return std::string(scheme) + "://" + endpoint_text(local.address().to_string(), local.port());
}

std::string describe(const error_code& ec) {
    if (ec == beast::error::timeout) return "no progress for the idle timeout";
    if (ec == asio::error::operation_aborted) return "the server stopped";
    return ec.message();
}

template <class Stream>
class session final : public connection, public std::enable_shared_from_this<session<Stream>> {
public:
    static constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

    template <class... Args>
    session(std::shared_ptr<server_state> state, tcp::socket socket, Args&&... args)
        : state_(std::move(state)), stream_(std::move(socket), std::forward<Args>(args)...) {
        error_code ec;
        auto& sock = beast::get_lowest_layer(stream_).socket();
        sock.set_option(tcp::no_delay(true), ec);
        auto peer = sock.remote_endpoint(ec);
        if (!ec) peer_ = endpoint_text(net::unmapped(peer.address()).to_string(), peer.port());  // dual-stack: IPv4 as such
        local_ = sock.local_endpoint(ec);
        state_->live.insert(this);
    }
    ~session() override { state_->forget(this); }

    void start() {
        if constexpr (is_tls) {
            lowest().expires_after(state_->options.idle_timeout);
            stream_.async_handshake(asio::ssl::stream_base::server,
                                    [self = this->shared_from_this()](const error_code& ec) { self->on_handshake(ec); });
        } else {
            read_request();
        }
    }

    void close_if_idle() override {
        if (!busy_) close_socket();
    }
    void cut() override {
        cut_ = true;
        if (ack_timer_) ack_timer_->cancel();
        close_socket();
    }

private:
    beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
    const char* transport() const { return is_tls ? "https" : "http"; }

    void close_socket() {
        error_code ignored;
        lowest().socket().close(ignored);
    }

    void on_handshake(const error_code& ec) {
        if (!ec) return read_request();
        if (ec == asio::error::operation_aborted || ec == asio::error::eof || ec == beast::error::timeout) return;
        // Not a device request: plain HTTP or garbage on the TLS port. One line, so it is seen.
        release::device_event e;
        e.transport = transport();
        e.kind = release::event_kind::refused;
        e.peer = peer_;
        e.decision = "TLS handshake failed: " + describe(ec);
        e.code = errc::protocol_violation;
        state_->sink(e);
    }

    void read_request() {
        if (state_->stopping) return;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
        lowest().expires_after(state_->options.idle_timeout);
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 [self = this->shared_from_this()](const error_code& ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(const error_code& ec) {
        if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
            ec == asio::error::operation_aborted || ec == beast::error::timeout || ec == asio::error::connection_reset)
            return;  // idle, slow or gone before a whole request: nothing to answer
        busy_ = true;
        started_ = clock_type::now();
        if (ec) {
            keep_alive_ = false;
            plan_ = proto::pull::unreadable_request(ec == bhttp::error::header_limit);
            plan_.event.decision += " (" + ec.message() + ")";
            return write_head();
        }
        const auto& req = parser_->get();
        proto::pull::request_facts facts;
        facts.method = std::string(req.method_string());
        facts.target = std::string(req.target());
        std::optional<std::string_view> authorization;
        std::string_view host;
        for (const auto& field : req) {
            facts.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
            if (field.name() == bhttp::field::authorization) authorization = field.value();
            if (field.name() == bhttp::field::host) host = field.value();
        }
        facts.auth = proto::pull::check_credentials(authorization, state_->options.credentials);
        facts.base_url = base_url(transport(), host, local_);
        plan_ = proto::pull::decide(facts, *state_->catalog, state_->options.decision);
        // A request body is never read: after answering, the connection closes.
        keep_alive_ = req.keep_alive() && parser_->is_done() && !state_->stopping;
        head_only_ = facts.method == "HEAD";
        write_head();
    }

    void write_head() {
        bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(plan_.status), 11};
        res.set(bhttp::field::server, "otaflash");
        for (const auto& [name, value] : plan_.headers) res.insert(name, value);
        if (plan_.status != 304) res.content_length(plan_.body_size());
        res.keep_alive(keep_alive_);
        bhttp::fields::writer writer{res, res.version(), res.result_int()};
        head_ = beast::buffers_to_string(writer.get());
        sent_ = 0;
        unacknowledged_ = 0;
        write_next(true);
    }

    void write_next(bool with_head) {
        std::array<asio::const_buffer, 2> buffers{};
        std::size_t count = 0, body_part = 0;  // slots used, body bytes in this write
        if (with_head) buffers[count++] = asio::buffer(head_);
        if (!head_only_ && plan_.status != 304) {
            if (plan_.blob) {
                body_part = std::min(chunk_size, plan_.length - sent_);
                if (body_part) buffers[count++] = asio::buffer(plan_.blob->data() + plan_.offset + sent_, body_part);
            } else if (!plan_.text.empty()) {
                body_part = plan_.text.size();
                buffers[count++] = asio::buffer(plan_.text);
            }
        }
        lowest().expires_after(state_->options.idle_timeout);
        const std::size_t head_size = with_head ? head_.size() : 0;
        // The head and the first part of the body go out in one write (unused slots stay empty).
        asio::async_write(stream_, buffers, [self = this->shared_from_this(), head_size](const error_code& ec, std::size_t n) {
            self->on_written(ec, n > head_size ? n - head_size : 0);
        });
    }

    void on_written(const error_code& ec, std::size_t body_bytes) {
        sent_ += body_bytes;
        const std::size_t body_total = (head_only_ || plan_.status == 304) ? 0 : plan_.body_size();
        if (ec) return finish(ec);
        if (sent_ < body_total) {
            auto progress = event();
            progress.kind = release::event_kind::progress;
            state_->sink(progress);
            return write_next(false);
        }
        if (plan_.blob && body_total) {
            unacknowledged_ = unacknowledged();
            ack_deadline_ = clock_type::now() + state_->options.idle_timeout;
            return await_acknowledged(std::chrono::milliseconds(1));
        }
        finish({});
    }

    // Bytes of ours the peer's TCP has not acknowledged yet (Linux SIOCOUTQ); 0 when unknown.
    std::size_t unacknowledged() {
        int queued = 0;
        if (::ioctl(lowest().socket().native_handle(), SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
        return static_cast<std::size_t>(queued);
    }

    bool connection_reset() {
        tcp_info info{};
        socklen_t size = sizeof info;
        if (::getsockopt(lowest().socket().native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) != 0) return true;
        return info.tcpi_state == TCP_CLOSE;
    }

    // An image counts as delivered once the device's TCP has acknowledged its last byte, not when
    // it was handed to our kernel: a device that vanishes with megabytes still in our send buffer
    // must show up as incomplete.
    void await_acknowledged(std::chrono::milliseconds pause) {
        // A reset empties the send queue too: the state, read after the queue, tells them apart.
        const auto queued = unacknowledged();
        if (connection_reset()) return finish(asio::error::connection_reset);
        if (queued == 0) {
            unacknowledged_ = 0;
            return finish({});
        }
        if (queued < unacknowledged_) {
            unacknowledged_ = queued;
            ack_deadline_ = clock_type::now() + state_->options.idle_timeout;
        }
        if (clock_type::now() >= ack_deadline_) return finish(beast::error::timeout);
        if (!ack_timer_) ack_timer_.emplace(stream_.get_executor());
        ack_timer_->expires_after(pause);
        ack_timer_->async_wait([self = this->shared_from_this(), pause](const error_code& ec) {
            if (ec || self->cut_) return self->finish(ec ? ec : asio::error::operation_aborted);
            self->await_acknowledged(std::min(pause * 2, std::chrono::milliseconds(50)));
        });
    }

    release::device_event event() const {
        auto e = plan_.event;
        e.transport = transport();
        e.peer = peer_;
        e.bytes = sent_ - std::min(sent_, unacknowledged_);  // what the peer acknowledged, once known
        if (head_only_) e.total = 0;
        e.ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started_).count());
        return e;
    }

    void finish(const error_code& ec) {
        auto e = event();
        if (ec) {
            e.kind = release::event_kind::failed;
            e.code = errc::connection_lost;
            e.decision += "; incomplete: " + std::to_string(sent_) + " of " + std::to_string(e.total) + " bytes (" +
                          (cut_ ? std::string("cut when the grace period ended") : describe(ec)) + ")";
        }
        state_->sink(e);
        busy_ = false;
        plan_ = {};  // lets go of the release bytes
        if (ec) return;
        if (keep_alive_ && !state_->stopping) return read_request();
        close_gracefully();
    }

    // Closing at once while the peer still sends (a request body we never read) would reset the
    // connection and could destroy the response in flight: end our side, read what remains.
    void close_gracefully() {
        if (state_->stopping) {
            error_code ignored;
            lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
            return close_socket();
        }
        lowest().expires_after(closing_time);
        if constexpr (is_tls) {
            stream_.async_shutdown([self = this->shared_from_this()](const error_code&) {});
        } else {
            error_code ignored;
            lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
            drain();
        }
    }

    void drain() {
        lowest().async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](const error_code& ec, std::size_t) {
            if (!ec) self->drain();
        });
    }

    std::shared_ptr<server_state> state_;
    Stream stream_;
    std::string peer_;
    tcp::endpoint local_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::empty_body>> parser_;
    proto::pull::response_plan plan_;
    std::string head_;
    std::size_t sent_ = 0;
    bool busy_ = false, keep_alive_ = false, head_only_ = false, cut_ = false;
    clock_type::time_point started_;
    std::array<char, 512> discard_{};
    std::optional<asio::steady_timer> ack_timer_;
    std::size_t unacknowledged_ = 0;
    clock_type::time_point ack_deadline_;
};

}  // namespace

void server_state::forget(connection* c) {
    live.erase(c);
    if (stopping && live.empty() && on_idle) asio::post(io, std::exchange(on_idle, nullptr));
}

void serve_connection(const std::shared_ptr<server_state>& state, tcp::socket socket, bool tls) {
    if (tls) std::make_shared<session<tls_stream>>(state, std::move(socket), *state->tls)->start();
    else std::make_shared<session<plain_stream>>(state, std::move(socket))->start();
}

}  // namespace otaflash::server::http
