#pragma once
// What the pull server answers, as a pure function of the request and the catalog: the HTTP
// transport (src/server/http) only parses, writes and times. Sources: ../shared/protocols/
// pull-updates.md §1 (clients and what they need back), espota.md §15 (x-ESP8266-*/x-ESP32-*).
//
// Endpoints, at "/" and below "/<channel>/" for every channel a release names:
//   GET|HEAD firmware.bin          the release for the asking device (rules below)
//   GET|HEAD firmware/<sha256>.bin exactly those bytes (application or filesystem image)
//   GET      version               the release's version as a bare text body
//   GET      manifest.json         esp32FOTA manifest {"type","version","url"} (an array for several titles)
//   GET      releases/latest       {"tag_name","name","assets":[{"name","size","browser_download_url"}]}
// firmware.bin with x-ESP8266-* / x-ESP32-* headers, in order: mode "version" → 200 + x-version;
// mode "spiffs" → the filesystem image or 404; image for the other chip family → 403; running
// sketch MD5 (or SHA-256) equal → 304; device version not older (release::compare_versions) →
// 304; image larger than x-*-free-space or needing more flash than x-*-chip-size → 403;
// otherwise 200 / 206 with Content-Length, x-MD5, ETag. Range: one "bytes=" range → 206, out of
// range → 416; If-Range not matching the ETag → the whole image.

#include <otaflash/release/catalog.hpp>
#include <otaflash/release/device_event.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otaflash::proto::pull {

enum class credentials { not_required, accepted, missing, rejected };

struct request_facts {
    std::string method;     // "GET"
    std::string target;     // as on the request line: "/beta/firmware.bin?x=1"
    std::vector<std::pair<std::string, std::string>> headers;  // names in any case
    credentials auth = credentials::not_required;
    std::string base_url;   // "http://192.168.1.5:8070": absolute URLs in manifests (from Host)
};

struct settings {
    std::optional<std::string> fota_type;  // manifest.json "type" (default: the release's title)
};

struct response_plan {
    unsigned status = 500;
    std::vector<std::pair<std::string, std::string>> headers;  // besides Content-Length
    std::string text;                          // a small body (version, JSON, one-line reason)
    std::shared_ptr<const bytes> blob;         // or a body from release bytes: [offset, offset+length)
    std::size_t offset = 0, length = 0;
    bool whole_image = false;                  // the body is a whole image: delivered when all written
    release::device_event event;               // kind, device, chip, version, offered, decision, code, total

    std::size_t body_size() const noexcept { return blob ? length : text.size(); }
};

response_plan decide(const request_facts& request, const release::catalog& catalog, const settings& options = {});

// A request the transport could not parse: 431 when its line and headers exceed the limit,
// 400 otherwise; the connection closes after it.
response_plan unreadable_request(bool too_large);

// The request path, percent-decoded and checked: nullopt for anything that is not a plain
// absolute path ("..", ".", backslashes, NUL, bad escapes, a target not starting with "/").
std::optional<std::vector<std::string>> path_segments(std::string_view target);

}  // namespace otaflash::proto::pull
