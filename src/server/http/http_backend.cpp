// The HTTP/HTTPS serve::backend: binds every listener before anything is served (a port in use
// or an unusable certificate fails start()), accepts connections into sessions, and stops
// gracefully: idle connections close at once, responses in flight get the grace period.

#include "net/loop_detail.hpp"
#include "server/http/server_state.hpp"
#include "server/http/tls_context.hpp"

#include <otaflash/io/limits.hpp>
#include <otaflash/net/address.hpp>
#include <otaflash/net/bind_failure.hpp>
#include <otaflash/util/endpoint_text.hpp>

#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

namespace otaflash::server::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr auto accept_retry_pause = std::chrono::milliseconds(100);
// Enough descriptors for thousands of devices at once (and the idle ones a hostile client opens).
constexpr std::uint64_t wanted_open_files = 65536;

// The URL a person or a test on this machine uses: the loopback address for a wildcard.
std::string url_of(const tcp::endpoint& local, bool tls) {
    auto address = local.address();
    std::string host = address.is_unspecified() ? (address.is_v6() ? "::1" : "127.0.0.1") : address.to_string();
    return std::string(tls ? "https" : "http") + "://" + endpoint_text(host, local.port()) + "/";
}

void accept_next(const std::shared_ptr<server_state>& state, listener& l) {
    l.acceptor.async_accept([state, &l](const error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || state->stopping || !l.acceptor.is_open()) return;
        if (ec) {  // out of descriptors, say: the connection stays queued; try again shortly
            l.pause.expires_after(accept_retry_pause);
            l.pause.async_wait([state, &l](const error_code& wait_ec) {
                if (!wait_ec && !state->stopping) accept_next(state, l);
            });
            return;
        }
        serve_connection(state, std::move(socket), l.tls);
        accept_next(state, l);
    });
}

class http_backend final : public serve::backend {
public:
    explicit http_backend(settings options) : options_(std::move(options)) {}

    result<std::vector<std::string>> start(net::event_loop& loop, const release::catalog& catalog,
                                           serve::event_sink sink, serve::failure_sink) override {
        auto state = std::make_shared<server_state>(loop.native().io, options_);
        state->catalog = &catalog;
        state->sink = std::move(sink);
        bool any_tls = false;
        for (const auto& l : options_.listeners) any_tls = any_tls || l.tls;
        if (any_tls) {
            if (!options_.tls)
                return make_failure(errc::usage_error, "an https:// listener needs a certificate and its key",
                                    "give --tls-cert FILE and --tls-key FILE");
            auto context = make_tls_context(*options_.tls);
            if (!context) return std::move(context).error();
            state->tls = std::move(*context);
        }
        raise_open_files_limit(wanted_open_files);
        std::vector<std::string> urls;
        for (const auto& spec : options_.listeners) {
            error_code ec;
            const auto address = asio::ip::make_address(spec.address, ec);
            if (ec)
                return make_failure(errc::usage_error, "--listen: '" + spec.address + "' is not an IP address",
                                    "give a numeric address of this machine, e.g. 0.0.0.0:8070 or [::]:8070");
            auto l = std::make_unique<listener>(state->io, spec.tls);
            const tcp::endpoint endpoint{address, spec.port};
            l->acceptor.open(endpoint.protocol(), ec);
            if (!ec && address.is_v6() && address.is_unspecified()) l->acceptor.set_option(asio::ip::v6_only(false), ec);
            if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
            if (!ec) l->acceptor.bind(endpoint, ec);
            if (!ec) l->acceptor.listen(asio::socket_base::max_listen_connections, ec);
            tcp::endpoint local;
            if (!ec) local = l->acceptor.local_endpoint(ec);
            if (ec) return net::bind_failure(spec.address, spec.port, ec, {"--listen", "--listen"});
            l->url = url_of(local, spec.tls);
            urls.push_back(l->url);
            state->listeners.push_back(std::move(l));
        }
        for (auto& l : state->listeners) accept_next(state, *l);
        state_ = std::move(state);
        return urls;
    }

    void stop(std::chrono::milliseconds grace, std::function<void()> done) override {
        auto state = state_;
        if (!state) {
            done();
            return;
        }
        state->stopping = true;
        for (auto& l : state->listeners) {
            error_code ignored;
            l->acceptor.close(ignored);
            l->pause.cancel();
        }
        auto grace_timer = std::make_shared<asio::steady_timer>(state->io);
        // Once the last connection has gone: let go of every Asio object, then report.
        auto finished = [this, state, grace_timer, done = std::move(done)] {
            grace_timer->cancel();
            state->listeners.clear();
            state_.reset();
            done();
        };
        const auto idle_now = std::vector<connection*>(state->live.begin(), state->live.end());
        for (auto* c : idle_now) c->close_if_idle();
        if (state->live.empty()) {
            asio::post(state->io, finished);
            return;
        }
        state->on_idle = finished;
        grace_timer->expires_after(grace);
        grace_timer->async_wait([state](const error_code& ec) {
            if (ec) return;
            const auto remaining = std::vector<connection*>(state->live.begin(), state->live.end());
            for (auto* c : remaining) c->cut();
        });
    }

private:
    settings options_;
    std::shared_ptr<server_state> state_;
};

}  // namespace

std::unique_ptr<serve::backend> make_http_backend(settings options) {
    return std::make_unique<http_backend>(std::move(options));
}

}  // namespace otaflash::server::http
