#include "emulator/ota/updater.hpp"

#include "emulator/ota/wire.hpp"

#include <otaflash/util/hex.hpp>

#include <algorithm>
#include <strings.h>

namespace otaflash::emulator::ota {
namespace {

constexpr std::uint8_t image_magic = 0xE9;

std::string lower(std::string text) {
    for (auto& c : text)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return text;
}

std::string_view esp8266_message(int error) {
    switch (error) {
    case 0: return "No Error";
    case 1: return "Flash Write Failed";
    case 2: return "Flash Erase Failed";
    case 3: return "Flash Read Failed";
    case 4: return "Not Enough Space";
    case 5: return "Bad Size Given";
    case 6: return "Stream Read Timeout";
    case 10: return "Magic byte is not 0xE9";
    case 12: return "Signature verification failed";
    case 13: return "No data supplied";
    case 14: return "Out of memory";
    case 15: return "Update already running";
    case 16: return "Unknown update command";
    default: return "UNKNOWN";
    }
}

std::string_view rp2040_message(int error) {
    switch (error) {
    case 0: return "No Error";
    case 1: return "Flash Write Failed";
    case 2: return "Flash Erase Failed";
    case 3: return "Flash Read Failed";
    case 4: return "Not Enough Space";
    case 5: return "Bad Size Given";
    case 6: return "Stream Read Timeout";
    case 12: return "Signature verification failed";
    case 13: return "No data supplied";
    default: return "UNKNOWN";
    }
}

std::string_view esp32_message(int error) {
    switch (error) {
    case 0: return "No Error";
    case 1: return "Flash Write Failed";
    case 2: return "Flash Erase Failed";
    case 3: return "Flash Read Failed";
    case 4: return "Not Enough Space";
    case 5: return "Bad Size Given";
    case 6: return "Stream Read Timeout";
    case 7: return "MD5 Check Failed";
    case 8: return "Wrong Magic Byte";
    case 9: return "Could Not Activate The Firmware";
    case 10: return "Partition Could Not be Found";
    case 11: return "Bad Argument";
    case 12: return "Aborted";
    case 13: return "Decryption error";
    default: return "UNKNOWN";
    }
}

}  // namespace

updater::updater(updater_family family, std::uint64_t space) : family_(family), space_(space) {}

bool updater::begin(std::int32_t size, int command, bool refuse_space) {
    if (running()) return false;  // "already running": cannot happen, the device runs one update at a time
    error_ = update_error::ok;
    progress_ = 0;
    buffer_.clear();
    flash_.clear();
    target_md5_.clear();
    const auto requested = static_cast<std::uint64_t>(std::max<std::int32_t>(size, 0));
    if (requested == 0) {
        error_ = update_error::size;
        return false;
    }
    switch (family_) {
    case updater_family::esp8266: {
        // Space is counted in whole flash sectors.
        const std::uint64_t rounded = (requested + flash_sector_size - 1) / flash_sector_size * flash_sector_size;
        if (refuse_space || rounded > space_) {
            error_ = update_error::space;
            return false;
        }
        break;
    }
    case updater_family::rp2040:
        if (refuse_space || requested > space_) {
            error_ = update_error::space;
            return false;
        }
        break;
    case updater_family::esp32:
        // An image larger than the partition is "Bad Size Given" on esp32.
        if (refuse_space || requested > space_) {
            error_ = update_error::size;
            return false;
        }
        break;
    }
    command_ = command;
    size_ = static_cast<std::size_t>(requested);
    buffer_.reserve(flash_sector_size);
    return true;
}

void updater::fail(int error) {
    // Every library drops the partial update on error (_reset()), so progress and size read 0.
    error_ = error;
    size_ = 0;
    progress_ = 0;
    buffer_.clear();
}

void updater::abort() { fail(update_error::esp32_abort); }

std::size_t updater::drain_room() const noexcept {
    if (has_error() || !running()) return 0;
    const std::size_t left = remaining() - buffer_.size();
    // A buffer left full by the previous call is flashed before more is read.
    const std::size_t room = buffer_.size() == flash_sector_size ? flash_sector_size : flash_sector_size - buffer_.size();
    return std::min(left, room);
}

bool updater::flush() {
    if (progress_ == 0 && family_ == updater_family::esp32 && command_ == command_flash &&
        buffer_.front() != image_magic) {
        fail(update_error::esp32_magic);
        return false;
    }
    flash_.insert(flash_.end(), buffer_.begin(), buffer_.end());
    progress_ += buffer_.size();
    flashed_in_call_ += buffer_.size();
    buffer_.clear();
    return true;
}

updater::write_result updater::write(byte_view data) {
    flashed_in_call_ = 0;
    if (has_error() || !running()) return {};
    const bool overflow = family_ == updater_family::esp32 ? data.size() > remaining()
                                                          : progress_ + buffer_.size() + data.size() > size_;
    if (overflow) {
        fail(update_error::space);
        return {};
    }
    std::size_t left = data.size();
    while (buffer_.size() + left > flash_sector_size) {
        const std::size_t take = flash_sector_size - buffer_.size();
        const auto from = data.begin() + static_cast<std::ptrdiff_t>(data.size() - left);
        buffer_.insert(buffer_.end(), from, from + static_cast<std::ptrdiff_t>(take));
        if (!flush()) return {data.size() - left, flashed_in_call_};
        left -= take;
    }
    buffer_.insert(buffer_.end(), data.end() - static_cast<std::ptrdiff_t>(left), data.end());
    if (buffer_.size() == remaining() && !flush()) return {data.size() - left, flashed_in_call_};
    return {data.size(), flashed_in_call_};
}

std::string updater::calculated_md5() const { return to_hex(md5(flash_)); }

bool updater::end() {
    if (family_ == updater_family::esp32) {
        if (has_error() || size_ == 0) return false;
        if (!finished()) {
            fail(update_error::esp32_abort);
            return false;
        }
        if (!target_md5_.empty() && lower(target_md5_) != calculated_md5()) {
            fail(update_error::md5);
            return false;
        }
        size_ = 0;
        progress_ = 0;
        return true;
    }

    if (size_ == 0) return false;
    if (progress_ == 0) fail(update_error::esp8266_no_data);
    if (has_error() || !finished()) {
        // A premature end leaves the error number as it was: usually 0, "No Error".
        fail(error_);
        return false;
    }
    if (!target_md5_.empty() && ::strcasecmp(target_md5_.c_str(), calculated_md5().c_str()) != 0) {
        fail(update_error::md5);
        return false;
    }
    if (family_ == updater_family::esp8266 && command_ == command_flash) {
        const bool gzip = flash_.size() >= 2 && flash_[0] == 0x1F && flash_[1] == 0x8B;
        if (!gzip && flash_.front() != image_magic) {
            fail(update_error::esp8266_magic);
            return false;
        }
    }
    size_ = 0;
    progress_ = 0;
    return true;
}

std::string updater::error_message() const {
    switch (family_) {
    case updater_family::esp8266:
        if (error_ == update_error::md5)
            return "MD5 verification failed: expected: " + target_md5_ + ", calculated: " + calculated_md5();
        return std::string(esp8266_message(error_));
    case updater_family::rp2040:
        if (error_ == update_error::md5)
            return "MD5 Failed: expected:" + target_md5_ + " calculated:" + calculated_md5();
        return std::string(rp2040_message(error_));
    case updater_family::esp32:
        return std::string(esp32_message(error_));
    }
    return "UNKNOWN";
}

std::string updater::error_text() const {
    switch (family_) {
    case updater_family::esp8266:  // printf_P("ERROR[%hhu]: %s\n")
        return "ERROR[" + std::to_string(error_) + "]: " + error_message() + "\n";
    case updater_family::rp2040:  // println("ERROR[n]: …")
        return "ERROR[" + std::to_string(error_) + "]: " + error_message() + "\r\n";
    case updater_family::esp32:  // println(_err2str(_error))
        return error_message() + "\r\n";
    }
    return {};
}

}  // namespace otaflash::emulator::ota
