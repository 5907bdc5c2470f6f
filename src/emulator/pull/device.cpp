#include "emulator/pull/device.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/io/file.hpp>
#include <otaflash/util/hex.hpp>

#include <cctype>
#include <memory>

namespace otaflash::emulator::pull {
namespace {

// One device's run; it owns itself through the callbacks in flight and ends with on_result.
struct run_state : std::enable_shared_from_this<run_state> {
    run_state(net::event_loop& l, tls_settings t, device_settings s, event_sink& k)
        : loop(l), tls(std::move(t)), settings(std::move(s)), sink(k), started(std::chrono::steady_clock::now()) {
        result.device = settings.profile.mac;
    }

    net::event_loop& loop;
    tls_settings tls;
    device_settings settings;
    event_sink& sink;
    std::chrono::steady_clock::time_point started;
    result_event result;
    int downloads = 0;

    const device_profile& profile() const { return settings.profile; }
    bool arduino() const {
        return profile().kind == client_kind::esp8266_httpupdate || profile().kind == client_kind::esp32_httpupdate;
    }

    void finish(std::string outcome, std::string detail) {
        result.outcome = std::move(outcome);
        result.detail = std::move(detail);
        result.ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
        sink.on_result(result);
    }

    void get(const std::string& url, header_list headers, std::optional<std::uint64_t> drop,
             std::function<void(http_answer)> next) {
        auto parsed = parse_url(url);
        if (!parsed) return finish("error", parsed.error().message);
        http_request r;
        r.url = *parsed;
        r.headers = std::move(headers);
        r.http10 = arduino();
        r.drop_after = drop;
        request_event ev{profile().mac, "GET", url, 0, {}, 0, false};
        for (const auto& [k, v] : r.headers)
            if (k == "Range") ev.range = v;
        ++result.requests;
        fetch(loop, tls, std::move(r), [self = shared_from_this(), ev, next = std::move(next)](result<http_answer> a) mutable {
            if (!a) {
                self->sink.on_request(ev);
                return self->finish("error", a.error().message);
            }
            ev.status = a->status;
            ev.bytes = a->body.size();
            ev.cut = a->cut;
            self->sink.on_request(ev);
            next(std::move(*a));
        });
    }

    void start() {
        auto self = shared_from_this();
        switch (profile().kind) {
        case client_kind::esp8266_httpupdate:
        case client_kind::esp32_httpupdate:
            return download(settings.url, {}, {}, {});
        case client_kind::esp32fota:
            return get(settings.url, {}, std::nullopt, [self](http_answer a) {
                if (a.status != 200) return self->finish("error", "manifest: HTTP " + std::to_string(a.status));
                auto entry = parse_manifest(std::string_view(reinterpret_cast<const char*>(a.body.data()), a.body.size()),
                                            self->profile().type);
                if (!entry) return self->finish("error", entry.error().message);
                self->result.offered = entry->version;
                if (!fota_wants(self->profile().version, entry->version))
                    return self->finish("no_update", "manifest offers " + entry->version + ", running " +
                                                          self->profile().version);
                self->download(entry->url, {}, {}, {});
            });
        case client_kind::raw: {
            std::string base = settings.url;
            while (!base.empty() && base.back() == '/') base.pop_back();
            return get(base + "/version", {}, std::nullopt, [self, base](http_answer a) {
                if (a.status != 200) return self->finish("error", "/version: HTTP " + std::to_string(a.status));
                std::string offered(reinterpret_cast<const char*>(a.body.data()), a.body.size());
                while (!offered.empty() && std::isspace(static_cast<unsigned char>(offered.back()))) offered.pop_back();
                self->result.offered = offered;
                if (!raw_wants(self->profile().version, offered))
                    return self->finish("no_update", "/version says " + offered + ", the same");
                self->download(base + "/firmware.bin", {}, {}, {});
            });
        }
        }
    }

    // `have`: the bytes of a cut download so far; `etag` and `total` from its first answer.
    void download(std::string url, bytes have, std::string etag, std::optional<std::uint64_t> total) {
        ++downloads;
        header_list headers = arduino() ? arduino_headers(profile(), "sketch") : header_list{};
        const bool resuming = !have.empty();
        if (resuming) {
            headers.emplace_back("Range", "bytes=" + std::to_string(have.size()) + "-");
            if (!etag.empty()) headers.emplace_back("If-Range", etag);
        }
        const auto drop = downloads == 1 ? settings.drop_after : std::nullopt;
        get(url, std::move(headers), drop,
            [self = shared_from_this(), url, have = std::move(have), resuming, total](http_answer a) mutable {
                self->on_body(std::move(url), std::move(have), resuming, total, std::move(a));
            });
    }

    void on_body(std::string url, bytes have, bool resuming, std::optional<std::uint64_t> total, http_answer a) {
        if (arduino()) {
            if (auto error = arduino_status_error(a.status))
                return finish(a.status == 304 ? "no_update" : "error", *error);
        } else if (a.status != 200 && a.status != 206) {
            return finish("error", "HTTP " + std::to_string(a.status) + " for " + url);
        }
        if (a.status == 206 && resuming) {
            // Content-Range: bytes FIRST-LAST/TOTAL must continue exactly where the cut left off.
            const auto range = a.header("Content-Range");
            const std::string want = "bytes " + std::to_string(have.size()) + "-";
            if (!range.starts_with(want)) return finish("error", "Content-Range '" + range + "' does not continue at " +
                                                                     std::to_string(have.size()));
            ++result.resumed;
            have.insert(have.end(), a.body.begin(), a.body.end());
        } else if (a.status == 200) {
            total = a.content_length;
            if (auto error = check_length(profile(), total)) return finish("error", *error);
            have = std::move(a.body);  // a server that ignores Range sends it all again
        } else {
            return finish("error", "HTTP 206 without a Range request");
        }
        if (a.cut) {
            if (downloads >= settings.attempts)
                return finish("error", "connection lost after " + std::to_string(have.size()) + " bytes, " +
                                           std::to_string(downloads) + " downloads");
            if (arduino()) return download(std::move(url), {}, {}, {});  // no Range: from the start
            return download(std::move(url), std::move(have), a.header("ETag"), total);
        }
        if (auto error = check_image(profile(), total, a.header("x-MD5"), have)) return finish("error", *error);
        result.bytes = have.size();
        result.md5 = to_hex(md5(have));
        if (!settings.out.empty()) {
            if (auto written = write_file_atomic(settings.out, have); !written)
                return finish("error", written.error().message);
            result.file = settings.out;
        }
        finish("updated", "image accepted");
    }
};

}  // namespace

void start_device(net::event_loop& loop, const tls_settings& tls, device_settings settings, event_sink& sink) {
    auto run = std::make_shared<run_state>(loop, tls, std::move(settings), sink);
    run->start();
}

}  // namespace otaflash::emulator::pull
