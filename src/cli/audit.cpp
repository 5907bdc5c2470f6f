#include "cli/audit.hpp"

#include <otaflash/util/endpoint_text.hpp>

namespace otaflash::cli {
namespace {

using nlohmann::json;

std::string text(const json& j, const char* key, std::string fallback = "-") {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    return it->is_string() ? it->get<std::string>() : it->dump();
}

bool has(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && !it->is_null();
}

// "ERROR_CLASS exit N: message", from an "error" object with a code and condition.
std::string error_text(const json& error, int exit_code) {
    return text(error, "condition") + " (" + text(error, "code") + ", exit " + std::to_string(exit_code) +
           "): " + text(error, "message", "");
}

// What was sent or checked: "app.bin (123456 bytes, md5 …, sha256 …)".
std::string file_text(const json& file, const char* path_key = "path") {
    std::string out = text(file, path_key) + " (" + text(file, "size", "?") + " bytes";
    if (has(file, "md5")) out += ", md5 " + text(file, "md5");
    if (has(file, "sha256")) out += ", sha256 " + text(file, "sha256");
    return out + ")";
}

std::string where(const json& device) {
    const std::string address = text(device, "address", "");
    if (address.empty()) return text(device, "target");
    auto port = device.find("port");
    return text(device, "target") + " at " +
           (port != device.end() && port->is_number() ? endpoint_text(address, port->get<std::uint16_t>())
                                                      : bracketed(address));
}

// One device of a push (the single push's result, or an entry of a fleet's devices).
std::string device_line(const json& device, const json& image, const json& error, int exit_code) {
    std::string line = "device " + (has(device, "label") && !text(device, "label").empty() ? text(device, "label") + " " : "") +
                       where(device) + ": " + text(device, "status", text(device, "result"));
    if (has(device, "status")) line += " (" + text(device, "result") + ")";
    if (error.is_object()) line += ", " + error_text(error, exit_code);
    line += "; sent " + file_text(image) + ", " + text(device, "bytes_sent", "0") + " bytes sent, upload " +
            text(device, "upload_ms", "0") + " ms, " + text(device, "duration_ms", "?") + " ms in all";
    if (has(device, "attempts")) line += ", " + text(device, "attempts") + " attempt(s)";
    if (has(device, "device") && has(device["device"], "result")) line += "; the device said " + text(device["device"], "result");
    return line;
}

void push_lines(const json& doc, std::vector<std::string>& out) {
    const json& r = doc["result"];
    if (!r.is_object()) return;
    const json image = r.value("image", json::object());
    if (r.contains("devices")) {
        for (const auto& d : r["devices"])
            out.push_back(device_line(d, image, d.value("error", json(nullptr)), d.value("exit_code", 0)));
        return;
    }
    if (r.contains("target")) out.push_back(device_line(r, image, doc["error"], doc.value("exit_code", 0)));
}

// verify --port: each file against the device's flash.
void compared_lines(const json& r, std::vector<std::string>& out) {
    out.push_back("device " + text(r, "chip") + " on " + text(r, "port"));
    for (const auto& g : r["regions"])
        out.push_back("compared " + text(g, "file") + " (" + text(g, "size") + " bytes, md5 " + text(g, "file_md5") +
                      ") with the flash at offset " + text(g, "offset") + ": " +
                      (g.value("match", false) ? "match" : "DIFFERS, flash md5 " + text(g, "flash_md5")));
}

void verify_lines(const json& doc, std::vector<std::string>& out) {
    const json& r = doc["result"];
    if (r.is_object() && r.contains("regions")) return compared_lines(r, out);
    if (!r.is_object() || !r.contains("files")) return;
    for (const auto& f : r["files"]) {
        std::string line = "file " + file_text(f) + ": " + (f.value("ok", false) ? "ok" : "FAILED");
        if (has(f, "chip")) line += ", " + text(f, "chip") + " " + text(f, "kind");
        if (has(f, "error")) line += ", " + text(f["error"], "code") + ": " + text(f["error"], "message", "");
        if (f.contains("checks"))
            for (const auto& c : f["checks"])
                if (!c.value("ok", true)) line += "; failed check " + text(c, "name") + ": " + text(c, "detail", "");
        out.push_back(line);
    }
}

void serial_lines(const json& doc, std::vector<std::string>& out) {
    const json& r = doc["result"];
    if (!r.is_object()) return;
    out.push_back("device " + text(r, "chip") + " on " + text(r, "port") + ": " + text(r, "result") + ", " +
                  text(r, "baud") + " baud, stub " + text(r, "stub", "none"));
    if (!r.contains("regions")) return;
    for (const auto& g : r["regions"])
        out.push_back("wrote " + file_text(g, "file") + " at offset " + text(g, "offset") + ": " +
                      (g.value("verified", false) ? "verified" : "written, not verified") + ", " +
                      text(g, "sent_bytes") + " bytes sent, erase " + text(g, "erase_ms") + " ms, write " +
                      text(g, "write_ms") + " ms");
}

}  // namespace

std::vector<std::string> audit_lines(const json& doc, int exit_code, long long duration_ms) {
    std::vector<std::string> out;
    const std::string command = text(doc, "command", "");
    std::string summary = "outcome: otaflash " + text(doc, "version") + " " + (command.empty() ? "(no command)" : command) +
                          ": exit " + std::to_string(exit_code) + " in " + std::to_string(duration_ms) + " ms";
    const json& error = doc["error"];
    summary += error.is_object() ? ", " + error_text(error, doc.value("exit_code", exit_code)) : std::string{", ok"};
    if (exit_code != doc.value("exit_code", exit_code))
        summary += "; the result could not be written to standard output (exit " + std::to_string(exit_code) + ")";
    out.push_back(summary);
    if (command == "push" || command == "espota") push_lines(doc, out);
    else if (command == "verify") verify_lines(doc, out);
    else if (command == "serial") serial_lines(doc, out);
    for (const auto& w : doc.value("warnings", json::array())) out.push_back("warning: " + w.get<std::string>());
    out.push_back("document: " + doc.dump(-1, ' ', false, json::error_handler_t::replace));
    return out;
}

}  // namespace otaflash::cli
