#include "cli/stub_files.hpp"

#include <otaflash/io/file.hpp>
#include <otaflash/util/base64.hpp>
#include <otaflash/util/bytes.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace otaflash::cli {
namespace fs = std::filesystem;

namespace {

// A stub is a few tens of KiB; anything far larger is not one.
constexpr std::size_t max_stub_file = 4u << 20;

failure invalid(const fs::path& file, const std::string& what) {
    return make_failure(errc::config_invalid, "flasher stub " + file.string() + ": " + what,
                        "give esptool's stub file for this chip (esptool/targets/stub_flasher/), or --stub none");
}

result<std::uint32_t> address_field(const nlohmann::json& j, const char* key, const fs::path& file) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > 0xFFFFFFFFull)
        return invalid(file, std::string("\"") + key + "\" is missing or not a 32-bit address");
    return static_cast<std::uint32_t>(it->get<std::uint64_t>());
}

// "text" / "data" with their start address; an absent or empty "data" is no segment.
result<std::optional<rom::stub_segment>> segment_field(const nlohmann::json& j, const char* key, const char* start_key,
                                                       const fs::path& file) {
    auto it = j.find(key);
    if (it == j.end() || (it->is_string() && it->get_ref<const std::string&>().empty()))
        return std::optional<rom::stub_segment>{};
    if (!it->is_string()) return invalid(file, std::string("\"") + key + "\" is not a base64 string");
    auto data = from_base64(it->get_ref<const std::string&>());
    if (!data) return invalid(file, std::string("\"") + key + "\" is not valid base64");
    auto start = address_field(j, start_key, file);
    if (!start) return std::move(start).error();
    return std::optional<rom::stub_segment>(rom::stub_segment{*start, std::move(*data)});
}

// esptool names chips esp32c3 in the new layout and 32c3 in stub_flasher_32c3.json.
std::string legacy_name(std::string_view chip) {
    if (chip.starts_with("esp")) chip.remove_prefix(3);
    return "stub_flasher_" + std::string(chip) + ".json";
}

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

// Children of `dir` whose names start with `prefix` (python3.11, idf5.2_py3.11_env), sorted so the
// newest version comes first.
std::vector<fs::path> children_named(const fs::path& dir, std::string_view prefix) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().filename().string().starts_with(prefix)) out.push_back(it->path());
    }
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a > b; });
    return out;
}

// .../lib/python3.X/{site,dist}-packages/esptool/targets/stub_flasher under `lib`.
void add_python_dirs(const fs::path& lib, std::vector<fs::path>& out) {
    for (const auto& python : children_named(lib, "python3")) {
        for (const char* packages : {"site-packages", "dist-packages"})
            out.push_back(python / packages / "esptool" / "targets" / "stub_flasher");
    }
}

std::optional<fs::path> env_path(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return fs::path(v);
}

}  // namespace

result<rom::flasher_stub> read_stub_file(const fs::path& file) {
    auto text = read_file(file.string(), false, max_stub_file);
    if (!text) return std::move(text).error();
    const nlohmann::json j = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return invalid(file, "not a JSON object");
    rom::flasher_stub stub;
    stub.source = file.string();
    auto entry = address_field(j, "entry", file);
    if (!entry) return std::move(entry).error();
    stub.entry = *entry;
    auto text_segment = segment_field(j, "text", "text_start", file);
    if (!text_segment) return std::move(text_segment).error();
    if (!*text_segment) return invalid(file, "\"text\" (the code) is missing");
    stub.segments.push_back(std::move(**text_segment));
    auto data_segment = segment_field(j, "data", "data_start", file);
    if (!data_segment) return std::move(data_segment).error();
    if (*data_segment) stub.segments.push_back(std::move(**data_segment));
    if (auto problem = rom::stub_problem(stub)) return invalid(file, *problem);
    return stub;
}

std::vector<fs::path> stub_files_in(const fs::path& dir, const chip_info& chip) {
    const std::string json = std::string(chip.name) + ".json";
    std::vector<fs::path> found;
    for (const fs::path& candidate : {dir / "2" / json, dir / "1" / json, dir / json, dir / legacy_name(chip.name)}) {
        if (is_file(candidate)) found.push_back(candidate);
    }
    return found;
}

std::vector<fs::path> stub_search_dirs() {
    std::vector<fs::path> candidates;
    const auto home = env_path("HOME");
    if (auto venv = env_path("VIRTUAL_ENV")) add_python_dirs(*venv / "lib", candidates);
    if (auto idf = env_path("IDF_PATH"))
        candidates.push_back(*idf / "components" / "esptool_py" / "esptool" / "esptool" / "targets" / "stub_flasher");
    if (home) {
        add_python_dirs(*home / ".local" / "lib", candidates);
        candidates.push_back(*home / ".platformio" / "packages" / "tool-esptoolpy" / "esptool" / "targets" /
                             "stub_flasher");
        for (const auto& env : children_named(*home / ".espressif" / "python_env", "idf"))
            add_python_dirs(env / "lib", candidates);
    }
    add_python_dirs("/usr/local/lib", candidates);
    add_python_dirs("/usr/lib", candidates);
    std::vector<fs::path> found;
    for (auto& c : candidates) {
        if (is_dir(c)) found.push_back(std::move(c));
    }
    return found;
}

std::function<result<std::optional<rom::flasher_stub>>(const chip_info&, std::vector<std::string>& notes)>
stub_provider(const std::string& option) {
    using answer = result<std::optional<rom::flasher_stub>>;
    if (option == "none") return {};
    if (option != "auto") {
        return [path = fs::path(option)](const chip_info& chip, std::vector<std::string>&) -> answer {
            fs::path file = path;
            if (is_dir(path)) {
                auto found = stub_files_in(path, chip);
                if (found.empty())
                    return make_failure(errc::file_not_found,
                                        "no flasher stub for the " + std::string(chip.display_name) + " in " + path.string(),
                                        "expected " + std::string(chip.name) + ".json, 1/ or 2/" + std::string(chip.name) +
                                            ".json or " + legacy_name(chip.name) + " there; or --stub none");
                file = found.front();
            }
            auto stub = read_stub_file(file);
            if (!stub) return std::move(stub).error();
            return std::optional<rom::flasher_stub>(std::move(*stub));
        };
    }
    return [](const chip_info& chip, std::vector<std::string>& notes) -> answer {
        for (const auto& dir : stub_search_dirs()) {
            for (const auto& file : stub_files_in(dir, chip)) {
                auto stub = read_stub_file(file);
                if (stub) return std::optional<rom::flasher_stub>(std::move(*stub));
                notes.push_back("skipped " + stub.error().message);
            }
        }
        notes.push_back("no flasher stub for the " + std::string(chip.display_name) +
                        " found (install esptool or give --stub): the ROM does the work, which is slower");
        return std::optional<rom::flasher_stub>{};
    };
}

}  // namespace otaflash::cli
