#include "emulator/pull/device.hpp"

#include <otaflash/crypto/digest.hpp>
#include <otaflash/io/file.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>

namespace otaflash::emulator::pull {
namespace {

std::string text_of(const bytes& body, std::size_t most = 200) {
    std::string text(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(std::min(body.size(), most)));
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    return text;
}

// What a refusing status means for the exit status: 401 credentials, 403/404/other the server
// declined.
errc status_code(unsigned status) { return status == 401 ? errc::auth_failed : errc::device_refused; }

// One device's run; it owns itself through the callbacks in flight and ends with a result event.
struct run_state : std::enable_shared_from_this<run_state> {
    run_state(net::event_loop& l, const client_settings& c, device_settings s, event_sink& k)
        : loop(l), client(c), settings(std::move(s)), sink(k), started(std::chrono::steady_clock::now()),
          authorization(authorization_value(settings.credentials)) {
        report.device = settings.profile.mac;
    }

    net::event_loop& loop;
    const client_settings& client;
    device_settings settings;
    event_sink& sink;
    std::chrono::steady_clock::time_point started;
    secret authorization;  // the Authorization header's value; empty: none
    result_event report;
    int downloads = 0;
    // The image so far, as the device holds it: written to "flash" (kept only for --out), hashed
    // on the way, its header bytes remembered. A resumed download adds to it.
    received_image image;
    hasher image_md5{digest_kind::md5};
    bytes kept;
    std::optional<std::uint64_t> total;  // Content-Length of the full answer
    std::string etag;                    // its ETag, for If-Range

    void restart_image() {
        image = {};
        image_md5 = hasher(digest_kind::md5);
        kept.clear();
    }
    void write_image(byte_view piece) {
        const auto room = received_image::head_size - std::min(image.head.size(), received_image::head_size);
        image.head.insert(image.head.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(std::min(room, piece.size())));
        image.size += piece.size();
        image_md5.update(piece);
        if (!settings.out.empty()) kept.insert(kept.end(), piece.begin(), piece.end());
    }

    const device_profile& profile() const { return settings.profile; }
    bool arduino() const {
        return profile().kind == client_kind::esp8266_httpupdate || profile().kind == client_kind::esp32_httpupdate;
    }

    void finish(std::string outcome, std::string detail, std::optional<errc> code = std::nullopt) {
        report.outcome = std::move(outcome);
        report.detail = std::move(detail);
        report.code = code;
        report.ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
        sink.on_event(report);
    }
    void fail(errc code, std::string detail) { finish("error", std::move(detail), code); }
    void refused(unsigned status, std::string detail, const bytes& body) {
        report.reason = text_of(body);
        if (status == 401) {
            const std::string sent = credentials_sent(settings.credentials);
            detail += sent.empty() ? ": the server wants credentials and the device sent none; give --user with "
                                     "OTAFLASH_DEVICE_PASSWORD or --password-file, or a bearer token "
                                     "(OTAFLASH_DEVICE_TOKEN or --token-file)"
                                   : ": the server refused the " + sent + "; check them against the server's";
        }
        fail(status_code(status), std::move(detail));
    }

    void get(const std::string& url, header_list headers, std::optional<std::uint64_t> drop,
             std::function<void(http_answer)> next, std::function<body_use(const http_answer&)> on_head = {}) {
        auto parsed = parse_url(url);
        if (!parsed) return fail(errc::protocol_violation, parsed.error().message);
        http_request r;
        r.url = *parsed;
        r.headers = std::move(headers);
        if (!authorization.empty()) {
            // HTTPClient writes it right after its own User-Agent and Connection lines.
            const bool agent_first = !r.headers.empty() && r.headers.front().first == "User-Agent";
            r.headers.emplace(r.headers.begin() + (agent_first ? 1 : 0), "Authorization", std::string(authorization.reveal()));
        }
        r.http10 = arduino();
        r.drop_after = drop;
        r.on_head = std::move(on_head);
        r.stream = [this](byte_view piece) { write_image(piece); };
        request_event ev{profile().mac, "GET", url, 0, {}, 0, false};
        for (const auto& [k, v] : r.headers)
            if (k == "Range") ev.range = v;
        ++report.requests;
        fetch(loop, client, std::move(r), [self = shared_from_this(), ev, next = std::move(next)](result<http_answer> a) mutable {
            if (!a) {
                self->sink.on_event(ev);
                return self->fail(a.error().code, a.error().message +
                                                      (a.error().hint.empty() ? "" : " (" + a.error().hint + ")"));
            }
            ev.status = a->status;
            ev.bytes = a->received;
            ev.cut = a->cut;
            self->sink.on_event(ev);
            next(std::move(*a));
        });
    }

    void start() {
        auto self = shared_from_this();
        switch (profile().kind) {
        case client_kind::esp8266_httpupdate:
        case client_kind::esp32_httpupdate: return settings.version_query ? ask_version() : download(settings.url);
        case client_kind::esp32fota:
            return get(settings.url, {}, std::nullopt, [self](http_answer a) {
                if (a.status != 200) return self->refused(a.status, "manifest: HTTP " + std::to_string(a.status), a.body);
                auto entry = parse_manifest(std::string_view(reinterpret_cast<const char*>(a.body.data()), a.body.size()),
                                            self->profile().type);
                if (!entry) return self->fail(entry.error().code, entry.error().message);
                self->report.offered = entry->version;
                if (!fota_wants(self->profile().version, entry->version))
                    return self->finish("no_update", "manifest offers " + entry->version + ", running " + self->profile().version);
                self->download(entry->url);
            });
        case client_kind::raw: {
            std::string base = settings.url;
            while (!base.empty() && base.back() == '/') base.pop_back();
            return get(base + "/version", {}, std::nullopt, [self, base](http_answer a) {
                if (a.status != 200) return self->refused(a.status, "/version: HTTP " + std::to_string(a.status), a.body);
                const std::string offered = text_of(a.body);
                self->report.offered = offered;
                if (!raw_wants(self->profile().version, offered))
                    return self->finish("no_update", "/version says " + offered + ", the same");
                self->download(base + "/firmware.bin");
            });
        }
        }
    }

    // ESP8266httpUpdate's getAvailableVersion(): the same request in mode "version"; the answer is
    // the x-version header (required) and x-MD5, the body is not read.
    void ask_version() {
        get(
            settings.url, arduino_headers(profile(), "version"), std::nullopt,
            [self = shared_from_this()](http_answer a) {
                if (a.status == 304) return self->finish("no_update", *arduino_status_error(304));
                if (auto error = arduino_status_error(a.status)) return self->refused(a.status, *error, a.body);
                const std::string offered = a.header("x-version");
                if (offered.empty())
                    return self->fail(errc::protocol_violation, "Server Did Not Report Version (no x-version header)");
                self->report.offered = offered;
                self->report.md5 = a.header("x-MD5");
                self->finish("version", "the server offers " + offered);
            },
            [](const http_answer& a) { return a.status == 200 ? body_use::skip : body_use::keep; });
    }

    // A download, or after a cut the rest of it: esp32fota and raw ask for what they lack with
    // Range and If-Range; the Arduino clients ask for everything again.
    void download(std::string url) {
        ++downloads;
        header_list headers = arduino() ? arduino_headers(profile(), profile().spiffs ? "spiffs" : "sketch") : header_list{};
        const bool resuming = !arduino() && image.size > 0;
        if (resuming) {
            headers.emplace_back("Range", "bytes=" + std::to_string(image.size) + "-");
            if (!etag.empty()) headers.emplace_back("If-Range", etag);
        }
        const auto drop = downloads == 1 ? settings.drop_after : std::nullopt;
        get(
            url, std::move(headers), drop,
            [self = shared_from_this(), url, resuming](http_answer a) { self->on_body(url, resuming, std::move(a)); },
            [this, resuming](const http_answer& a) { return on_head(a, resuming); });
    }

    // Before the body: a whole image starts over (the Arduino clients stop after the headers when
    // Content-Length is missing or too large; the others too, Update.begin() would refuse it), a
    // part must continue exactly where the cut left off; anything else is an error text.
    body_use on_head(const http_answer& a, bool resuming) {
        if (a.status == 200) {
            if (check_length(profile(), a.content_length) || check_content_type(profile(), a.header("Content-Type")))
                return body_use::skip;
            restart_image();
            return body_use::stream;
        }
        if (a.status == 206) return resuming && continues(a) ? body_use::stream : body_use::skip;
        return body_use::keep;
    }
    bool continues(const http_answer& a) const {
        return a.header("Content-Range").starts_with("bytes " + std::to_string(image.size) + "-");
    }

    void on_body(const std::string& url, bool resuming, http_answer a) {
        if (arduino()) {
            if (a.status == 304) return finish("no_update", *arduino_status_error(304));
            if (auto error = arduino_status_error(a.status)) return refused(a.status, *error, a.body);
        } else if (a.status != 200 && a.status != 206) {
            return refused(a.status, "HTTP " + std::to_string(a.status) + " for " + url, a.body);
        }
        if (a.status == 200) {
            total = a.content_length;
            etag = a.header("ETag");
            if (auto error = check_length(profile(), total)) return fail(errc::image_check_failed, *error);
            if (auto error = check_content_type(profile(), a.header("Content-Type"))) return fail(errc::image_check_failed, *error);
        } else if (!resuming) {
            return fail(errc::protocol_violation, "HTTP 206 without a Range request");
        } else if (a.skipped) {
            return fail(errc::protocol_violation, "Content-Range '" + a.header("Content-Range") + "' does not continue at " +
                                                      std::to_string(image.size));
        } else {
            ++report.resumed;
        }
        if (a.cut) {
            if (downloads >= settings.attempts)
                return fail(errc::connection_lost, "connection lost after " + std::to_string(image.size) + " bytes, " +
                                                       std::to_string(downloads) + " downloads");
            return download(url);
        }
        image.md5 = to_hex(image_md5.finish());
        if (auto error = check_image(profile(), total, a.header("x-MD5"), image)) return fail(errc::image_check_failed, *error);
        report.bytes = image.size;
        report.md5 = image.md5;
        if (!settings.out.empty()) {
            if (auto written = write_file_atomic(settings.out, kept); !written)
                return fail(written.error().code, written.error().message);
            report.file = settings.out;
        }
        finish("updated", "image accepted");
    }
};

}  // namespace

void start_device(net::event_loop& loop, const client_settings& client, device_settings settings, event_sink& sink) {
    std::make_shared<run_state>(loop, client, std::move(settings), sink)->start();
}

}  // namespace otaflash::emulator::pull
