#include <otaflash/image/firmware_file.hpp>

#include <otaflash/crypto/digest.hpp>
#include <otaflash/image/filesystem.hpp>
#include <otaflash/util/crc32.hpp>
#include <otaflash/util/gzip.hpp>
#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <cstring>

namespace otaflash::image {
namespace {

// Where Arduino's ESP8266 build puts the sketch after eboot.
constexpr std::size_t esp8266_app_offset = 0x1000;
// RSA-2048/3072/4096 PKCS#1 v1.5 signatures (espota.md §14; 2048 is what signing.py recommends).
constexpr std::size_t signature_lengths[] = {256, 384, 512};
// Bootloader offsets other than 0 (rom-bootloader.md §7): merged files for these chips start
// with 0xFF up to there.
constexpr std::size_t merged_bootloader_offsets[] = {0x1000, 0x2000};

std::string scope_of(const std::string& label, std::size_t offset) { return label + "@" + hex_offset(offset); }

bool all_equal(byte_view data, std::uint8_t value) {
    return std::all_of(data.begin(), data.end(), [value](std::uint8_t b) { return b == value; });
}
bool is_padding(byte_view data) { return all_equal(data, 0xFF) || all_equal(data, 0x00); }

failure with_context(failure f, const std::string& context) {
    f.message = context + ": " + f.message;
    return f;
}

failure not_firmware(byte_view data) {
    const char* hint = "give the firmware .bin (not the .elf, a filesystem or an erased-flash dump)";
    if (auto fs = detect_filesystem(data))
        return make_failure(errc::not_an_image,
                            "a " + std::string(fs->name) + " filesystem image (" + fs->where + "), not firmware",
                            "upload it as a filesystem image, not as an application (otaflash push --fs)");
    if (all_equal(data, 0xFF))
        return make_failure(errc::not_an_image, "every byte is 0xff (erased flash): there is no image", hint);
    if (data[0] == 0xFF)
        return make_failure(errc::not_an_image,
                            "starts with 0xff and has no image header (0xe9) at 0x00001000 or 0x00002000, where "
                            "merged flash images keep the bootloader",
                            hint);
    return make_failure(errc::not_an_image,
                        "first byte is " + hex_digits(data[0], 2) +
                            " at offset 0x00000000; an ESP image starts with 0xe9 (0xea for ESP8266 v2)",
                        hint);
}

void add_checks(firmware_file& file, std::vector<check> checks) {
    for (auto& c : checks) file.checks.push_back(std::move(c));
}

class analyzer {
public:
    analyzer(byte_view data, const analyze_options& options) : data_(data), options_(options) {}

    result<firmware_file> run(int depth) {
        if (data_.empty()) return make_failure(errc::file_empty, "the file is empty (0 bytes)", "check the path");
        if (is_gzip(data_)) return gzip(depth);
        file_.size = data_.size();
        if (starts_partition_table(data_, 0)) return table_only();
        if (data_[0] == esp_image_magic || data_[0] == esp8266_v2_magic) {
            auto first = parse_image(data_);
            if (!first) return std::move(first).error();
            if (data_[0] == esp_image_magic && first->size <= default_partition_table_offset &&
                starts_partition_table(data_, default_partition_table_offset))
                return merged(0, std::move(*first));
            return single(std::move(*first));
        }
        if (data_[0] == 0xFF) {
            for (auto offset : merged_bootloader_offsets) {
                if (data_.size() > offset && data_[offset] == esp_image_magic && all_equal(data_.first(offset), 0xFF)) {
                    auto boot = parse_image(data_.subspan(offset));
                    if (!boot) return with_context(std::move(boot).error(), "bootloader at " + hex_offset(offset));
                    return merged(offset, std::move(*boot));
                }
            }
        }
        return not_firmware(data_);
    }

private:
    result<firmware_file> gzip(int depth) {
        if (depth > 0)
            return make_failure(errc::not_an_image, "gzip inside gzip: not a firmware file",
                                "compress the firmware once");
        auto inflated = gunzip(data_, options_.max_inflated_size);
        if (!inflated) return std::move(inflated).error();
        analyzer inner(inflated->data, options_);
        auto file = inner.run(depth + 1);
        if (!file) return with_context(std::move(file).error(), "inside the gzip stream");
        file->size = data_.size();
        file->gzip = gzip_info{inflated->consumed, inflated->data.size()};
        file->notes.insert(file->notes.begin(), "gzip-compressed (" + std::to_string(inflated->consumed) +
                                                    " bytes inflate to " + std::to_string(inflated->data.size()) +
                                                    "): the checks below are of the inflated image, offsets too");
        const std::size_t end = inflated->consumed;
        if (auto sig = find_signature(end)) {
            file->signature = sig;
            file->notes.push_back(signature_note(*sig));
        } else if (end < data_.size()) {
            file->notes.push_back(std::to_string(data_.size() - end) + " bytes after the gzip stream (offset " +
                                  hex_offset(end) + ") are not part of it");
        }
        return file;
    }

    result<firmware_file> table_only() {
        auto table = parse_partition_table(data_, 0);
        if (!table) return std::move(table).error();
        file_.kind = file_kind::partition_table;
        add_checks(file_, check_partition_table(*table));
        file_.partitions = std::move(*table);
        if (options_.expected_chip)
            file_.notes.push_back("a partition table does not say which chip it is for: --chip not checked");
        return std::move(file_);
    }

    result<firmware_file> single(image_info first) {
        file_.kind = file_kind::image;
        file_.target = first.target;
        std::size_t end = first.size;
        std::string first_label = "image";
        std::optional<image_info> app;
        std::optional<failure> app_failure;
        if (first.target == chip::esp8266 && end <= esp8266_app_offset && data_.size() > esp8266_app_offset &&
            data_[esp8266_app_offset] == esp_image_magic) {
            first_label = "bootloader";
            auto parsed = parse_image(data_.subspan(esp8266_app_offset));
            if (parsed) {
                end = esp8266_app_offset + parsed->size;
                app = std::move(*parsed);
            } else {
                end = data_.size();
                app_failure = std::move(parsed).error();
            }
        }
        if (!app && !app_failure && first.role != image_role::application)
            file_.notes.push_back(std::string(first.role == image_role::bootloader ? "a second-stage bootloader"
                                                                                   : "a RAM-only program") +
                                  ", not an application: " + first.role_reason);
        add_image(first_label, 0, std::move(first));
        if (app) add_image("app", esp8266_app_offset, std::move(*app));
        if (app_failure) unreadable_image("app", esp8266_app_offset, std::move(*app_failure));

        const bool esp8266 = file_.target == chip::esp8266;
        const bool secure_boot_signed =
            !esp8266 && (secure_boot_v2(end) || (file_.target == chip::esp32 && secure_boot_v1(end)));
        if (auto sig = esp8266 ? find_signature(end) : std::nullopt) {
            file_.signature = sig;
            file_.notes.push_back(signature_note(*sig));
        } else if (!secure_boot_signed && end < data_.size()) {
            const auto rest = data_.subspan(end);
            file_.notes.push_back(all_equal(rest, 0xFF) ? "padded with 0xff from " + hex_offset(end) + " to " +
                                                              std::to_string(data_.size()) + " bytes"
                                                        : std::to_string(rest.size()) + " bytes after the image end (" +
                                                              hex_offset(end) + ") are not part of it");
        }
        chip_check();
        return std::move(file_);
    }

    result<firmware_file> merged(std::size_t boot_offset, image_info boot) {
        file_.kind = file_kind::merged;
        file_.target = boot.target;
        const chip_info& c = info(boot.target);
        check where{"bootloader_offset", scope_of("bootloader", boot_offset), c.bootloader_offset == boot_offset,
                    {}, {}, errc::image_check_failed};
        if (where.ok) {
            where.detail = "bootloader at " + hex_offset(boot_offset) + ", where the " + std::string{c.name} + " ROM loads it";
        } else {
            where.detail = "the " + std::string{c.name} + " ROM loads the bootloader from " +
                           hex_offset(c.bootloader_offset) + ", this file has it at " + hex_offset(boot_offset);
            where.hint = "merge the images again with esptool merge-bin --chip " + std::string{c.name};
        }
        add_image("bootloader", boot_offset, std::move(boot));
        file_.checks.push_back(std::move(where));

        if (!starts_partition_table(data_, default_partition_table_offset)) {
            file_.notes.push_back("no partition table at " + hex_offset(default_partition_table_offset) +
                                  ": only the bootloader was checked");
            chip_check();
            return std::move(file_);
        }
        auto table = parse_partition_table(data_, default_partition_table_offset);
        if (!table) {
            file_.checks.push_back(check{"partition_table", scope_of("partition_table", default_partition_table_offset),
                                         false, table.error().message, table.error().hint, errc::image_check_failed});
            chip_check();
            return std::move(file_);
        }
        add_checks(file_, check_partition_table(*table));
        for (const auto& p : table->entries)
            if (p.type == partition_app) app_partition(p);
        file_.partitions = std::move(*table);
        chip_check();
        return std::move(file_);
    }

    void app_partition(const partition& p) {
        const std::string label = "app " + p.label;
        if (p.offset >= data_.size()) {
            file_.notes.push_back("app partition '" + p.label + "' at " + hex32(p.offset) +
                                  " lies beyond the end of the file: not checked");
            return;
        }
        const auto slice = data_.subspan(p.offset, std::min<std::size_t>(p.size, data_.size() - p.offset));
        if (slice[0] == 0xFF) {
            file_.images.push_back({label, p.offset, std::nullopt, "erased (starts with 0xff): no image"});
            file_.notes.push_back("app partition '" + p.label + "' at " + hex32(p.offset) + " is erased: nothing to check");
            return;
        }
        auto app = parse_image(slice);
        if (!app) return unreadable_image(label, p.offset, std::move(app).error());
        const auto boot_chip = *file_.target;
        if (app->target != boot_chip) {
            file_.checks.push_back(check{"chip_consistency", scope_of(label, p.offset), false,
                                         "the app is for " + std::string{name(app->target)} +
                                             " but the bootloader is for " + std::string{name(boot_chip)},
                                         "merge images built for the same chip", errc::image_check_failed});
        }
        add_image(label, p.offset, std::move(*app));
    }

    void add_image(const std::string& label, std::size_t offset, image_info image) {
        add_checks(file_, check_image(image, file_.kind == file_kind::image && label == "image" ? std::string{}
                                                                                              : scope_of(label, offset)));
        file_.images.push_back({label, offset, std::move(image), {}});
    }

    void unreadable_image(const std::string& label, std::size_t offset, failure why) {
        // Its own code: a truncated or malformed image inside the file is invalid input (4), as a
        // truncated image file alone is, not a failed check of a well-formed one (8).
        file_.checks.push_back(check{"image", scope_of(label, offset), false, why.message, why.hint, why.code});
        file_.images.push_back({label, offset, std::nullopt, std::move(why.message)});
    }

    std::optional<signature_info> find_signature(std::size_t end) const {
        if (data_.size() < end + 4) return std::nullopt;
        const std::size_t length = load_le32(data_.data() + data_.size() - 4);
        if (std::find(std::begin(signature_lengths), std::end(signature_lengths), length) == std::end(signature_lengths))
            return std::nullopt;
        if (data_.size() - end - 4 < length) return std::nullopt;
        const std::size_t offset = data_.size() - 4 - length;
        if (!is_padding(data_.subspan(end, offset - end))) return std::nullopt;
        return signature_info{offset, length};
    }

    // Secure Boot V2 (RSA-3072 or ECDSA): the image is padded to a 4 KiB boundary and the last
    // sector holds up to three 1216-byte signature blocks (magic 0xE7, version 2 or 3, the
    // SHA-256 of everything before the sector, ..., a CRC-32 of the block's first 1196 bytes),
    // then 0xFF (espsecure sign-data --version 2).
    bool secure_boot_v2(std::size_t end) {
        constexpr std::size_t sector = 4096, block = 1216, crc_at = 1196;
        const std::size_t at = (end + sector - 1) / sector * sector;
        if (data_.size() != at + sector || data_[at] != 0xE7 || (data_[at + 1] != 2 && data_[at + 1] != 3)) return false;
        if (!is_padding(data_.subspan(end, at - end))) return false;
        const std::string scope = "secure_boot_v2@" + hex_offset(at);
        const std::string digest = to_hex(sha256(data_.first(at)));
        std::size_t blocks = 0;
        for (std::size_t b = at; b + block <= data_.size() && data_[b] == 0xE7; b += block, ++blocks) {
            const std::string which = "signature block " + std::to_string(blocks);
            file_.checks.push_back(compare_stored("secure_boot_crc", scope, which + " CRC-32", b + crc_at,
                                                  hex32(load_le32(data_.data() + b + crc_at)),
                                                  hex32(crc32(data_.subspan(b, crc_at))),
                                                  "the signature block is damaged: sign the image again"));
            file_.checks.push_back(compare_stored("secure_boot_digest", scope, which + " image digest", b + 4,
                                                  to_hex(data_.subspan(b + 4, 32)), digest,
                                                  "the image changed after it was signed: sign it again"));
        }
        file_.secure_boot = secure_boot_info{2, at, blocks};
        file_.notes.push_back("Secure Boot V2 signature sector at " + hex_offset(at) + " with " + std::to_string(blocks) +
                              " signature block(s) (the signatures themselves are not verified: that needs the "
                              "public key)");
        return true;
    }

    // Secure Boot V1 (ESP32): a 68-byte block, u32 version 0 and a 64-byte ECDSA signature, ends
    // the file after the image and its padding (espsecure sign-data --version 1).
    bool secure_boot_v1(std::size_t end) {
        constexpr std::size_t block = 68;
        if (data_.size() < end + block) return false;
        const std::size_t at = data_.size() - block;
        if (load_le32(data_.data() + at) != 0 || is_padding(data_.subspan(at + 4))) return false;
        if (!is_padding(data_.subspan(end, at - end))) return false;
        file_.secure_boot = secure_boot_info{1, at, 1};
        file_.notes.push_back("Secure Boot V1 signature block at " + hex_offset(at) +
                              " (version 0, 64-byte ECDSA signature; not verified: that needs the public key)");
        return true;
    }

    static std::string signature_note(const signature_info& sig) {
        return "signed, " + std::to_string(sig.length) + "-byte signature at " + hex_offset(sig.offset) +
               " (the signature itself is not verified: that needs the device's public key)";
    }

    void chip_check() {
        if (!options_.expected_chip || !file_.target) return;
        const chip want = *options_.expected_chip;
        const chip have = *file_.target;
        check c{"chip", {}, want == have, {}, {}, errc::chip_mismatch};
        if (c.ok) {
            c.detail = "built for " + std::string{name(have)} + " as expected";
        } else {
            c.detail = "built for " + std::string{name(have)} + ", not " + std::string{name(want)};
            c.hint = "use the firmware built for " + std::string{name(want)} + ", or pass --chip " +
                     std::string{name(have)} + " if that is the device";
        }
        file_.checks.push_back(std::move(c));
    }

    byte_view data_;
    const analyze_options& options_;
    firmware_file file_;
};

}  // namespace

std::string_view kind_name(file_kind k) noexcept {
    switch (k) {
    case file_kind::image: return "image";
    case file_kind::merged: return "merged";
    case file_kind::partition_table: return "partition_table";
    }
    return "image";
}

bool firmware_file::ok() const noexcept { return first_failure() == nullptr; }

const check* firmware_file::first_failure() const noexcept {
    for (const auto& c : checks)
        if (!c.ok) return &c;
    return nullptr;
}

std::optional<failure> refuse_from_head(byte_view head, std::uint64_t file_size) {
    if (head.empty()) return std::nullopt;
    if (head[0] == esp_image_magic || head[0] == esp8266_v2_magic || is_gzip(head) || starts_partition_table(head, 0))
        return std::nullopt;
    if (head[0] == 0xFF) {
        // A merged image keeps its bootloader at 0x1000 or 0x2000 after 0xFF; only a head that
        // reaches past both and shows neither decides.
        const std::size_t last = merged_bootloader_offsets[std::size(merged_bootloader_offsets) - 1];
        if (head.size() <= last) return std::nullopt;
        for (auto offset : merged_bootloader_offsets)
            if (head[offset] == esp_image_magic && all_equal(head.first(offset), 0xFF)) return std::nullopt;
        if (all_equal(head, 0xFF) && head.size() < file_size) return std::nullopt;  // "all 0xFF" needs every byte
    }
    return not_firmware(head);
}

result<firmware_file> analyze_firmware(byte_view data, const analyze_options& options) {
    return analyzer(data, options).run(0);
}

}  // namespace otaflash::image
