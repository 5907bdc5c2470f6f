#include "cli/commands/serve_mqtt.hpp"

#include "cli/duration.hpp"
#include "cli/logging.hpp"
#include "cli/secrets.hpp"
#include "server/mqtt/mqtt_backend.hpp"

#include <otaflash/proto/mqtt_ota/broker_url.hpp>
#include <otaflash/proto/mqtt_ota/messages.hpp>
#include <otaflash/proto/mqtt_ota/topics.hpp>

#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace otaflash::cli {

namespace mq = proto::mqtt_ota;

void add_mqtt_options(CLI::App& serve, mqtt_cli_options& o) {
    const char* group = "MQTT (devices that fetch CRC-checked chunks through a broker)";
    serve.add_option("--mqtt", o.url, "Serve on this broker: mqtt://[user@]host[:port] or mqtts://... (no HTTP "
                                      "listener unless --listen is given too)")
        ->group(group);
    serve.add_option("--mqtt-username", o.username, "Broker user (default: the user in --mqtt); the password comes "
                                                    "from OTAFLASH_MQTT_PASSWORD or --mqtt-password-file")
        ->group(group);
    serve.add_option("--mqtt-password-file", o.password_file, "Broker password on the file's first line")->group(group);
    serve.add_option("--mqtt-ca", o.ca_file, "CA certificate (PEM) that verifies an mqtts:// broker (default: the "
                                             "system's)")
        ->group(group);
    serve.add_option("--mqtt-client-id", o.client_id, "Client id of otaflash at the broker (default: otaflash-HOST, "
                                                      "plus -PID with --mqtt-share-group)")
        ->group(group);
    serve.add_option("--mqtt-profile", o.profile, "Topic layout: ota (ota/DEVICE/..., DEVICE = the client id) or "
                                                  "thingsboard (v1/devices/me/..., one device at a time)")
        ->default_str("ota")
        ->group(group);
    serve.add_option("--chunk-framing", o.framing, "crc32 (data + its CRC-32, 4 bytes little-endian) or raw")
        ->default_str("crc32")
        ->group(group);
    serve.add_option("--mqtt-share-group", o.share_group, "Take requests through $share/GROUP/...: several "
                                                          "instances share the load, each request answered once")
        ->group(group);
    serve.add_option("--mqtt-connect-timeout", o.connect_timeout, "Give up when the broker has not accepted the "
                                                                  "login within this long, at start or after losing "
                                                                  "it (exit 5)")
        ->default_str("10s")
        ->group(group);
    serve.add_flag("--trigger", o.trigger, "Publish the update trigger (F9 01 on ota/DEVICE/cmd) to each --expect "
                                           "device once connected")
        ->group(group);
}

std::string default_mqtt_client_id(const std::string& share_group) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == 0) std::snprintf(host, sizeof host, "localhost");
    std::string id = "otaflash-";
    for (const char* c = host; *c; ++c)  // client ids travel in logs and ACLs: keep them plain
        id += std::isalnum(static_cast<unsigned char>(*c)) || *c == '-' || *c == '.' ? *c : '-';
    if (!share_group.empty()) id += "-" + std::to_string(::getpid());
    return id;
}

result<std::unique_ptr<serve::backend>> make_mqtt_serve_backend(const mqtt_cli_options& o,
                                                                const std::vector<std::string>& expect) {
    if (o.url.empty()) {
        const bool any = !o.username.empty() || !o.password_file.empty() || !o.ca_file.empty() || !o.client_id.empty() ||
                         o.profile != "ota" || o.framing != "crc32" || !o.share_group.empty() || o.trigger ||
                         o.connect_timeout != "10s";
        if (any) return make_failure(errc::usage_error, "the MQTT options need --mqtt URL", "e.g. --mqtt mqtt://127.0.0.1:1883");
        return std::unique_ptr<serve::backend>{};
    }
    server::mqtt_backend_options b;
    auto& s = b.server;
    auto url = mq::parse_broker_url(o.url);
    if (!url) return std::move(url).error();
    s.client.broker = *url;
    s.client.username = o.username;
    s.client.ca_file = o.ca_file;
    if (!o.ca_file.empty() && !url->tls)
        return make_failure(errc::usage_error, "--mqtt-ca is for a TLS broker, and " + o.url + " is plain MQTT",
                            "write mqtts://... or leave out --mqtt-ca");
    password_inputs pw;
    if (!o.password_file.empty()) pw.file = o.password_file;
    if (const char* env = std::getenv("OTAFLASH_MQTT_PASSWORD")) pw.env = env;
    auto password = resolve_password(pw, system_password_readers());
    if (!password) return std::move(password).error();
    s.client.password = password->password;
    s.client.client_id = o.client_id.empty() ? default_mqtt_client_id(o.share_group) : o.client_id;

    s.profile = mq::find_profile(o.profile);
    if (!s.profile)
        return make_failure(errc::usage_error, "--mqtt-profile: unknown profile '" + o.profile + "'",
                            "one of " + std::string(mq::profile_names()));
    auto framing = mq::parse_framing(o.framing);
    if (!framing) return make_failure(errc::usage_error, "--chunk-framing: '" + o.framing + "' is neither crc32 nor raw", {});
    s.chunks = *framing;
    if (!o.share_group.empty() && !mq::valid_topic_level(o.share_group))
        return make_failure(errc::usage_error, "--mqtt-share-group: '" + o.share_group + "' is not one topic level",
                            "a name without '/', '+' or '#'");
    s.share_group = o.share_group;
    auto timeout = parse_duration(o.connect_timeout, "--mqtt-connect-timeout", min_timeout);
    if (!timeout) return std::move(timeout).error();
    s.connect_deadline = *timeout;

    if (o.trigger) {
        if (expect.empty())
            return make_failure(errc::usage_error, "--trigger starts the --expect devices, and none is expected",
                                "add --expect DEVICE (the device's MQTT client id)");
        for (const auto& device : expect)
            if (!mq::valid_topic_level(device))
                return make_failure(errc::usage_error, "--expect '" + device + "' cannot stand in an MQTT topic",
                                    "an MQTT client id without '/', '+' or '#'");
        b.trigger = expect;
    }
    return server::make_mqtt_backend(std::move(b), cli_log());
}

}  // namespace otaflash::cli
