#pragma once
// One typed error vocabulary for every layer. `errc` stays fine-grained (it is what --json reports
// as error.code); `condition` groups codes into the few classes a script branches on (exit codes).

#include <cstdint>
#include <string>
#include <string_view>

namespace otaflash {

enum class condition : std::uint8_t {
    internal,         // a bug in otaflash
    usage,            // the command line is wrong
    config,           // a settings file or environment variable is wrong
    input,            // a local file (image, password file, target list) is missing or invalid
    unreachable,      // the device never answered (network, serial port, download mode)
    auth,             // the device rejected the credentials, or none were available
    device_refused,   // the device answered but declined the update before any data flowed
    transfer,         // the data transfer broke (connection lost, device or ROM error)
    verification,     // a digest or check did not match
    local_resource,   // a local socket, port or file could not be used
    unconfirmed,      // all data was sent but the device never confirmed the result
    partial,          // several targets: some succeeded, some failed
    output,           // the result could not be written to standard output (a full disk, a closed pipe)
    interrupted,      // SIGINT or SIGTERM
};

enum class errc : std::uint16_t {
    internal_error,
    usage_error,
    config_invalid,
    // input
    file_not_found,
    file_unreadable,
    file_empty,
    not_an_image,
    image_malformed,
    chip_mismatch,
    board_mismatch,        // a targets file's board= is not what the device advertises
    image_too_large,
    target_invalid,
    // unreachable
    host_not_found,
    invite_no_reply,
    accept_timeout,
    serial_port_not_found,
    sync_failed,
    not_in_download_mode,
    broker_unreachable,    // no MQTT broker answered within the connect deadline
    // auth
    auth_required,
    auth_failed,
    auth_no_reply,
    auth_scheme_unknown,
    password_unavailable,
    broker_refused,        // the MQTT broker refused the connection (CONNACK: credentials, not authorised)
    // device refused
    device_refused,
    // transfer
    connection_lost,
    ack_timeout,
    device_error,
    rom_error,
    rom_timeout,
    protocol_violation,
    stub_start_failed,     // an uploaded flasher stub never greeted
    // verification
    image_check_failed,
    device_verify_failed,
    flash_md5_mismatch,
    // local resource
    bind_failed,
    port_busy,
    permission_denied,
    write_failed,
    // unconfirmed
    result_unconfirmed,
    verify_unsupported,
    expected_devices_missing,  // serve --expect: the deadline passed before every device had the release
    // several targets
    some_targets_failed,
    cancelled_fail_fast,   // a device stopped or never started because another failed under --fail-fast
    // output
    output_failed,         // writing the result to standard output failed
    // interrupted
    interrupted_sigint,
    interrupted_sigterm,
};

// Stable machine name, e.g. "auth_failed": part of the JSON contract, never renamed.
std::string_view code_name(errc code) noexcept;
condition condition_of(errc code) noexcept;
std::string_view condition_name(condition c) noexcept;

// What went wrong (message, with context such as the offset or the device's own words) and what
// to do about it (hint). Both are for humans; `code` is for machines.
struct failure {
    errc code = errc::internal_error;
    std::string message;
    std::string hint;
};

inline failure make_failure(errc code, std::string message, std::string hint = {}) {
    return failure{code, std::move(message), std::move(hint)};
}

}  // namespace otaflash
