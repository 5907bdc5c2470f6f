#pragma once
// Finding and reading esptool's flasher stubs (`--stub`). otaflash ships none; esptool keeps one
// JSON file per chip (entry, base64 text + text_start, base64 data + data_start) in
// esptool/targets/stub_flasher/, as stub_flasher_<chip>.json up to v4.7 and as 1/<chip>.json
// (legacy stub) and 2/<chip>.json (esp-flasher-stub) since. A user may point at one file, at such
// a directory, or let `auto` look where pip, PlatformIO and ESP-IDF install esptool.

#include <otaflash/chip/chip.hpp>
#include <otaflash/proto/rom/stub.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::cli {

// One stub file: errc::file_not_found / file_unreadable, or errc::config_invalid naming the field.
result<rom::flasher_stub> read_stub_file(const std::filesystem::path& file);

// The files for `chip` in an esptool stub directory (the one holding 1/ and 2/, or an older
// esptool's flat one), newest layout first.
std::vector<std::filesystem::path> stub_files_in(const std::filesystem::path& dir, const chip_info& chip);

// Where `auto` looks, most specific first; only directories that exist.
std::vector<std::filesystem::path> stub_search_dirs();

// `--stub` as the session asks for it once the chip is known: "none" → nullopt; a file → that
// file; a directory → the chip's newest file there (none there is an error); "auto" → the first
// readable one in stub_search_dirs(), else nullopt (the ROM does the work); a found file that
// cannot be read is skipped with a note.
std::function<result<std::optional<rom::flasher_stub>>(const chip_info&, std::vector<std::string>& notes)>
stub_provider(const std::string& option);

}  // namespace otaflash::cli
