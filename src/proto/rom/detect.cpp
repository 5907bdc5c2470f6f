#include <otaflash/proto/rom/detect.hpp>

#include <otaflash/util/hex.hpp>

namespace otaflash::rom {

std::optional<security_info> parse_security_info(byte_view payload) {
    if (payload.size() != 20 && payload.size() != 12) return std::nullopt;
    security_info info;
    info.flags = load_le32(payload.data());
    info.flash_crypt_cnt = payload[4];
    if (payload.size() == 20) {
        info.chip_id = load_le32(payload.data() + 12);
        info.eco_version = load_le32(payload.data() + 16);
    }
    return info;
}

namespace {

result<std::optional<security_info>> read_security_info(loader& rom) {
    // Only ESP32-family ROMs know the command, and they all use 4 status bytes.
    const std::size_t saved = rom.status_length();
    rom.set_status_length(esp32_status_length);
    auto r = rom.transact(get_security_info(), rom.limits().command, "report its security info");
    rom.set_status_length(saved);
    if (!r) return std::move(r).error();
    if (r->st.failed) {
        rom.log().write(log_level::debug, "GET_SECURITY_INFO refused: " + describe_rom_error(r->st.error));
        return std::optional<security_info>{};
    }
    const std::size_t payload = r->data.size() >= esp32_status_length ? r->data.size() - esp32_status_length : 0;
    auto info = parse_security_info(r->payload(payload));
    if (!info)
        rom.log().write(log_level::debug, "GET_SECURITY_INFO reply of unexpected length " + std::to_string(payload));
    return info;
}

}  // namespace

result<chip_identity> detect_chip(loader& rom, const chip_info* expected) {
    chip_identity id;
    auto magic = rom.transact(read_reg(chip_detect_magic_reg), rom.limits().command, "read the chip's magic register");
    if (!magic) return std::move(magic).error();
    if (!magic->st.failed) {
        id.magic = magic->value;
        // ESP32-P4 reports 0, which a failed read also looks like: confirm it by chip id below.
        if (magic->value != 0) id.chip = find_chip_by_magic(magic->value);
        if (id.chip) id.how = "magic " + hex32(magic->value);
    }
    const bool ask_security = !id.chip || id.chip->security_info_length != 0;
    if (ask_security) {
        auto sec = read_security_info(rom);
        if (!sec) return std::move(sec).error();
        id.security = *sec;
        if (id.security && id.security->chip_id) {
            auto match = find_chip_by_id(static_cast<std::uint16_t>(*id.security->chip_id));
            if (match.status == chip_id_status::known && match.chip != id.chip) {
                id.chip = match.chip;
                id.how = "chip id " + std::to_string(*id.security->chip_id) + " (GET_SECURITY_INFO)";
            } else if (match.status == chip_id_status::retired) {
                return make_failure(errc::chip_mismatch,
                                    "the device is a " + std::string(match.retired_name) +
                                        ", pre-production silicon that otaflash does not support",
                                    "use a production chip");
            }
        } else if (!id.chip && magic->st.failed && id.security) {
            // esptool's rule: a ROM that refuses READ_REG but answers GET_SECURITY_INFO without a
            // chip id is an ESP32-S2 in Secure Download Mode.
            id.chip = &info(chip::esp32s2);
            id.how = "READ_REG refused, short GET_SECURITY_INFO (ESP32-S2 in Secure Download Mode)";
        }
    }
    if (!id.chip) {
        if (expected) {
            rom.log().write(log_level::warn, "could not identify the chip (" +
                                                 (id.magic ? "magic " + hex32(*id.magic) : std::string("no magic")) +
                                                 "); trusting --chip " + std::string(expected->name));
            id.chip = expected;
            id.how = "--chip (the device did not say)";
        } else {
            return make_failure(errc::protocol_violation,
                                "the ROM answered but its chip is unknown (" +
                                    (id.magic ? "magic " + hex32(*id.magic) : std::string("magic register unreadable")) +
                                    (id.security && id.security->chip_id
                                         ? ", chip id " + std::to_string(*id.security->chip_id)
                                         : std::string{}) +
                                    ")",
                                "if you know which chip it is, name it with --chip (" + chip_name_list() + ")");
        }
    } else if (expected && expected != id.chip) {
        return make_failure(errc::chip_mismatch,
                            "the device is an " + std::string(id.chip->display_name) + ", not the " +
                                std::string(expected->display_name) + " that --chip names",
                            "drop --chip to use the chip found, or connect the intended board");
    }
    rom.set_status_length(id.chip->rom_status_length);
    rom.log().write(log_level::debug, "chip " + std::string(id.chip->display_name) + " identified by " + id.how);
    return id;
}

result<std::optional<chip_fuses>> read_fuses(loader& rom, const chip_info& c) {
    std::vector<std::uint32_t> values;
    for (auto address : fuse_registers(c)) {
        auto v = try_read_register(rom, address);
        if (!v) return std::move(v).error();
        if (!*v) return std::optional<chip_fuses>{};
        values.push_back(**v);
    }
    return decode_fuses(c, values);
}

}  // namespace otaflash::rom
