#pragma once
// What an emulated pulling device sends and how it judges what it gets, as the real client code
// does (../shared/protocols/pull-updates.md §1, espota.md §15): ESP8266httpUpdate and arduino-esp32
// HTTPUpdate (x-ESP8266-* / x-ESP32-* headers, 304 = no update, Content-Length required, magic
// byte, flash size, x-MD5), esp32FOTA (a JSON manifest, then its url) and the raw /version +
// /firmware.bin clients of cellular modems. Pure: no sockets, no clock.

#include <otaflash/crypto/secret.hpp>
#include <otaflash/result.hpp>
#include <otaflash/util/bytes.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otaflash::emulator::pull {

enum class client_kind { esp8266_httpupdate, esp32_httpupdate, esp32fota, raw };
std::optional<client_kind> parse_kind(std::string_view name) noexcept;
std::string_view kind_name(client_kind kind) noexcept;
inline constexpr std::string_view kind_names = "esp8266-httpupdate, esp32-httpupdate, esp32fota, raw";

struct device_profile {
    client_kind kind = client_kind::esp32fota;
    std::string mac = "24:0A:C4:00:00:01";  // STA MAC, upper case
    std::string version = "1.0.0";          // what it runs
    std::string running_md5;                // MD5 of the running sketch (hex); empty: random-looking
    std::string type;                       // esp32FOTA firmware type ("" = any)
    bool esp8266 = false;                   // the chip (ESP8266httpUpdate: always)
    std::uint64_t flash_size = 4u << 20;    // real flash chip size
    std::uint64_t free_space = 1536u << 10; // free sketch space
    std::uint64_t sketch_size = 800u << 10; // running sketch size
    bool spiffs = false;                    // Arduino clients: ask for the filesystem image (mode spiffs)
    std::uint64_t fs_size = 1408u << 10;    // the filesystem partition (default partition tables: 0x160000)
};

bool is_esp8266(const device_profile& device) noexcept;

using header_list = std::vector<std::pair<std::string, std::string>>;

// The request headers of the Arduino clients for `mode` ("sketch", "spiffs", "version").
header_list arduino_headers(const device_profile& device, std::string_view mode);

// The device's credentials: setAuthorization(user, password) for HTTP Basic, or a bearer token
// added as an Authorization header (ESP8266HTTPClient has no other way; arduino-esp32's HTTPClient
// also has setAuthorizationType("Bearer")).
struct device_credentials {
    std::string user;
    secret password;
    secret token;
};

// The Authorization header value the device sends; empty when none. Basic needs user and password
// both (ESPhttpUpdate sets them only then), and Basic wins when a token is given too:
// HTTPClient::addHeader drops an Authorization header once setAuthorization() holds credentials, and
// sends exactly one.
secret authorization_value(const device_credentials& credentials);

// What the device sent, for a 401's detail; never the secret itself.
std::string credentials_sent(const device_credentials& credentials);

// What the Arduino clients make of a status code: nullopt for 200; the library's error text otherwise
// ("no update" for 304).
std::optional<std::string> arduino_status_error(unsigned status);

// Before the body: Content-Length present and non-zero, fits the free space (the filesystem
// partition in spiffs mode).
std::optional<std::string> check_length(const device_profile& device, std::optional<std::uint64_t> content_length);

// esp32FOTA takes a firmware answer only with Content-Type application/octet-stream (its check
// before Update.begin()); the other clients do not look.
std::optional<std::string> check_content_type(const device_profile& device, std::string_view content_type);

// What a device keeps of an image while it streams into flash: the first bytes (the header the
// checks read), the length and the MD5 (lower-case hex) — not the image.
struct received_image {
    bytes head;  // the first head_size bytes (fewer when the image is shorter)
    std::uint64_t size = 0;
    std::string md5;
    static constexpr std::size_t head_size = 16;
};
received_image receive_whole(byte_view body);

// The whole body as Update would take it: length equal to Content-Length; for a sketch the magic
// byte (0xE9; 0x1F gzip on ESP8266) and, on ESP8266, the image header's flash size within the
// chip's (ESP8266httpUpdate's "New Binary Does Not Fit Flash Size"); x-MD5 when sent.
std::optional<std::string> check_image(const device_profile& device, std::optional<std::uint64_t> content_length,
                                       std::string_view x_md5, const received_image& image);

// esp32FOTA's manifest: the entry of the device's type, {"type","version","url"} or
// {"type","version","host","port","bin"}, in an object or an array. Fails on anything else.
struct manifest_entry {
    std::string type;
    std::string version;
    std::string url;
};
result<manifest_entry> parse_manifest(std::string_view json, std::string_view type);

// esp32FOTA updates when the manifest's semantic version is newer; the raw clients when the text
// differs (seed 003).
bool fota_wants(std::string_view running, std::string_view offered);
bool raw_wants(std::string_view running, std::string_view offered);

}  // namespace otaflash::emulator::pull
