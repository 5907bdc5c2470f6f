#include <otaflash/proto/espota/advice.hpp>

#include <otaflash/proto/espota/messages.hpp>
#include <otaflash/util/endpoint_text.hpp>

#include <algorithm>
#include <cctype>
#include <string>

namespace otaflash::espota {
namespace {

struct known_text {
    std::string_view needle;  // lowercase substring of the device's words
    bool verification;        // a check on the received image failed (exit class "verification")
    std::string_view meaning;
    std::string_view advice;
};

// Needles cover the esp8266 "ERROR[n]: …", the esp32 bare messages and arduino-pico's "nofile".
constexpr known_text known_texts[] = {
    {"not enough space", false, "the image does not fit in the device's update area",
     "choose a flash size / partition scheme with a larger OTA (app) or filesystem area, or make the image smaller"},
    {"bad size", false, "the device rejected the image size (larger than its partition, or zero)",
     "choose a partition scheme whose OTA slot holds this image, and check that the file is the right one"},
    {"bootstrap", false, "the device was not reset after it was flashed over serial",
     "reset the device once (press RESET or power-cycle it), then push again; this is needed only once after a serial flash"},
    {"partition could not be found", false, "the device has no partition to update into",
     "use a partition scheme with two OTA app slots (or a SPIFFS/LittleFS partition for --fs) and flash it over serial once"},
    {"nofile", false, "the device could not mount its filesystem, which arduino-pico needs to stage an update",
     "choose a Flash Size option with a filesystem area for the board, flash once over USB, then push again"},
    {"already running", false, "an update is already running on the device",
     "wait for it to finish or reset the device, then push again"},
    {"unknown command", false, "the device does not accept this kind of update",
     "check --fs: send application images without it and filesystem images with it"},
    {"bad argument", false, "the device does not accept this kind of update",
     "check --fs: send application images without it and filesystem images with it"},
    {"out of memory", false, "the device ran out of memory for the update",
     "free heap in the sketch (fewer buffers or connections during OTA) and push again"},
    {"magic", true, "the device found no valid image header (wrong magic byte): this is not an app image for it",
     "push the application .bin the build produced (not a merged factory image, bootloader or filesystem image); "
     "use --fs for filesystem images"},
    {"md5", true, "the image the device received does not match its MD5 (corrupted on the way)",
     "push again; if it repeats, check the Wi-Fi signal and power supply"},
    {"signature", true, "the device's signature check rejected the image",
     "sign the image with the key the running firmware trusts (esp8266: the FILE.signed the build made, see --prefer-signed)"},
    {"sha256", true, "the device's SHA-256 check rejected the image",
     "push the unmodified file the build produced"},
    {"sha-256", true, "the device's SHA-256 check rejected the image",
     "push the unmodified file the build produced"},
    {"new flash config", true, "the image's header asks for more flash than this chip has",
     "build for this board's real flash size"},
    {"flash config", false, "the flash configuration in the running firmware does not match the chip",
     "build for this board's real flash size and flash once over serial"},
    {"could not activate", true, "the device could not make the new image bootable",
     "push again; if it repeats, flash over serial and check the partition table"},
    {"flash write", false, "the device failed to write its flash", "push again; if it repeats, the flash may be worn or the supply weak"},
    {"flash erase", false, "the device failed to erase its flash", "push again; if it repeats, the flash may be worn or the supply weak"},
    {"flash read", false, "the device failed to read back its flash", "push again; if it repeats, the flash may be worn or the supply weak"},
    {"stream read timeout", false, "the device stopped receiving data in time",
     "push again; keep the sketch's loop() short so ArduinoOTA.handle() runs often"},
    {"receive failed", false, "the device stopped receiving data in time",
     "push again; keep the sketch's loop() short so ArduinoOTA.handle() runs often"},
    {"aborted", false, "the device aborted the update", "push again; see the device's serial log for the reason"},
};

std::string lowercase(std::string_view text) {
    std::string out{text};
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

const known_text* lookup(std::string_view device_text) {
    const std::string lower = lowercase(device_text);
    for (const auto& k : known_texts)
        if (lower.find(k.needle) != std::string::npos) return &k;
    return nullptr;
}

std::string quoted(std::string_view device_text) { return "\"" + printable(device_text) + "\""; }

}  // namespace

failure refusal_failure(std::string_view device_text) {
    const known_text* k = lookup(device_text);
    std::string message = "the device refused the update: " + quoted(device_text);
    if (k) message += " (" + std::string{k->meaning} + ")";
    return make_failure(errc::device_refused, std::move(message),
                        k ? std::string{k->advice} : "see the device's words above and its serial log");
}

failure final_text_failure(std::string_view device_text) {
    const known_text* k = lookup(device_text);
    std::string message = "the device reported an error instead of OK: " + quoted(device_text);
    if (k) message += " (" + std::string{k->meaning} + ")";
    const errc code = k && k->verification ? errc::device_verify_failed : errc::device_error;
    return make_failure(code, std::move(message),
                        k ? std::string{k->advice} : "see the device's words above and its serial log");
}

std::string firewall_rules(std::string_view device, std::uint16_t port) {
    const std::string d{device};
    const std::string p = std::to_string(port);
    const bool v6 = d.find(':') != std::string::npos;
    return "sudo ufw allow proto tcp from " + d + " to any port " + p + "  |  sudo " +
           (v6 ? "ip6tables" : "iptables") + " -I INPUT -p tcp -s " + d + " --dport " + p +
           " -j ACCEPT  |  sudo nft add rule inet filter input " + (v6 ? "ip6" : "ip") + " saddr " + d +
           " tcp dport " + p + " accept";
}

failure no_connect_back_failure(std::string_view device, std::string_view listen_address, std::uint16_t port,
                                bool port_pinned) {
    const std::string where = endpoint_text(listen_address, port);
    std::string message = "the device accepted the invitation (OK) but never connected back to " + where +
                          ": an inbound TCP connection from " + std::string{device} +
                          " was blocked (host firewall, network profile, NAT), or the device could not start the "
                          "update (esp32 reports no OTA partition or an image too big only this way)";
    std::string hint = "allow the connection, e.g. " + firewall_rules(device, port);
    if (!port_pinned) hint += "; pin the port with --host-port so one rule keeps working";
    hint += "; if the firewall is open, check the device's partition scheme and serial log";
    return make_failure(errc::accept_timeout, std::move(message), std::move(hint));
}

}  // namespace otaflash::espota
