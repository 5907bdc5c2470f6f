#include <otaflash/error.hpp>

namespace otaflash {

std::string_view code_name(errc code) noexcept {
    switch (code) {
    case errc::internal_error: return "internal_error";
    case errc::usage_error: return "usage_error";
    case errc::config_invalid: return "config_invalid";
    case errc::file_not_found: return "file_not_found";
    case errc::file_unreadable: return "file_unreadable";
    case errc::file_empty: return "file_empty";
    case errc::not_an_image: return "not_an_image";
    case errc::image_malformed: return "image_malformed";
    case errc::chip_mismatch: return "chip_mismatch";
    case errc::board_mismatch: return "board_mismatch";
    case errc::image_too_large: return "image_too_large";
    case errc::target_invalid: return "target_invalid";
    case errc::host_not_found: return "host_not_found";
    case errc::invite_no_reply: return "invite_no_reply";
    case errc::broker_unreachable: return "broker_unreachable";
    case errc::accept_timeout: return "accept_timeout";
    case errc::serial_port_not_found: return "serial_port_not_found";
    case errc::sync_failed: return "sync_failed";
    case errc::not_in_download_mode: return "not_in_download_mode";
    case errc::auth_required: return "auth_required";
    case errc::auth_failed: return "auth_failed";
    case errc::broker_refused: return "broker_refused";
    case errc::auth_no_reply: return "auth_no_reply";
    case errc::auth_scheme_unknown: return "auth_scheme_unknown";
    case errc::password_unavailable: return "password_unavailable";
    case errc::device_refused: return "device_refused";
    case errc::connection_lost: return "connection_lost";
    case errc::ack_timeout: return "ack_timeout";
    case errc::device_error: return "device_error";
    case errc::rom_error: return "rom_error";
    case errc::rom_timeout: return "rom_timeout";
    case errc::protocol_violation: return "protocol_violation";
    case errc::stub_start_failed: return "stub_start_failed";
    case errc::image_check_failed: return "image_check_failed";
    case errc::device_verify_failed: return "device_verify_failed";
    case errc::flash_md5_mismatch: return "flash_md5_mismatch";
    case errc::bind_failed: return "bind_failed";
    case errc::port_busy: return "port_busy";
    case errc::permission_denied: return "permission_denied";
    case errc::write_failed: return "write_failed";
    case errc::result_unconfirmed: return "result_unconfirmed";
    case errc::verify_unsupported: return "verify_unsupported";
    case errc::expected_devices_missing: return "expected_devices_missing";
    case errc::some_targets_failed: return "some_targets_failed";
    case errc::cancelled_fail_fast: return "cancelled_fail_fast";
    case errc::output_failed: return "output_failed";
    case errc::interrupted_sigint: return "interrupted_sigint";
    case errc::interrupted_sigterm: return "interrupted_sigterm";
    }
    return "internal_error";
}

condition condition_of(errc code) noexcept {
    switch (code) {
    case errc::internal_error: return condition::internal;
    case errc::usage_error: return condition::usage;
    case errc::config_invalid: return condition::config;
    case errc::file_not_found:
    case errc::file_unreadable:
    case errc::file_empty:
    case errc::not_an_image:
    case errc::image_malformed:
    case errc::chip_mismatch:
    case errc::board_mismatch:
    case errc::image_too_large:
    case errc::target_invalid: return condition::input;
    case errc::host_not_found:
    case errc::invite_no_reply:
    case errc::accept_timeout:
    case errc::serial_port_not_found:
    case errc::sync_failed:
    case errc::broker_unreachable:
    case errc::not_in_download_mode: return condition::unreachable;
    case errc::auth_required:
    case errc::auth_failed:
    case errc::auth_no_reply:
    case errc::auth_scheme_unknown:
    case errc::broker_refused:
    case errc::password_unavailable: return condition::auth;
    case errc::device_refused: return condition::device_refused;
    case errc::connection_lost:
    case errc::ack_timeout:
    case errc::device_error:
    case errc::rom_error:
    case errc::rom_timeout:
    case errc::protocol_violation:
    case errc::stub_start_failed: return condition::transfer;
    case errc::image_check_failed:
    case errc::device_verify_failed:
    case errc::flash_md5_mismatch: return condition::verification;
    case errc::bind_failed:
    case errc::port_busy:
    case errc::permission_denied:
    case errc::write_failed: return condition::local_resource;
    case errc::result_unconfirmed:
    case errc::verify_unsupported:
    case errc::expected_devices_missing: return condition::unconfirmed;
    case errc::some_targets_failed:
    case errc::cancelled_fail_fast: return condition::partial;
    case errc::output_failed: return condition::output;
    case errc::interrupted_sigint:
    case errc::interrupted_sigterm: return condition::interrupted;
    }
    return condition::internal;
}

std::string_view condition_name(condition c) noexcept {
    switch (c) {
    case condition::internal: return "internal";
    case condition::usage: return "usage";
    case condition::config: return "config";
    case condition::input: return "input";
    case condition::unreachable: return "unreachable";
    case condition::auth: return "auth";
    case condition::device_refused: return "device_refused";
    case condition::transfer: return "transfer";
    case condition::verification: return "verification";
    case condition::local_resource: return "local_resource";
    case condition::unconfirmed: return "unconfirmed";
    case condition::partial: return "partial";
    case condition::output: return "output";
    case condition::interrupted: return "interrupted";
    }
    return "internal";
}

}  // namespace otaflash
