#pragma once
// The emulated ROM serial bootloader as a pure state machine over bytes and time
// (../shared/protocols/rom-bootloader.md). The driver hands it what arrived from the host, when,
// and at which baud rate the host's line runs; it answers with the bytes to put on the line and
// the moment each batch has crossed the wire. Wire time, flash erase/write time and every fault
// are computed here; nothing here sleeps, reads a clock or does I/O.

#include "erase_units.hpp"
#include "faults.hpp"
#include "flash_memory.hpp"
#include "rom_chip.hpp"

#include <otaflash/log.hpp>
#include <otaflash/proto/rom/slip.hpp>
#include <otaflash/util/zlib_inflater.hpp>
#include <otaflash/util/bytes.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace otaflash::emulator::rom {

using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::steady_clock::duration;

enum class boot_mode : std::uint8_t { download, app };

// Speeds of the models; a rate of 0 means "takes no time". The flash figures are the typical AC
// characteristics of a common SPI NOR part (Winbond W25Q32JV datasheet: tSE, tBE2, tPP); the
// ROM's read-back after programming runs at SPI speed and is left out.
struct timing {
    bool wire_delay = true;                          // 10 bit times per byte at the line's baud rate
    double erase_bytes_per_s = 4096 / 0.045;         // 4 KiB sector erase: 45 ms
    double block_erase_bytes_per_s = 65536 / 0.150;  // 64 KiB block erase: 150 ms
    double write_bytes_per_s = 256 / 0.0004;         // 256-byte page program: 0.4 ms
    double read_bytes_per_s = 2 * 1024 * 1024;       // SPI_FLASH_MD5, READ_FLASH_SLOW, READ_FLASH
};

// What code uploaded with MEM_BEGIN/DATA and started with MEM_END does.
enum class ram_code : std::uint8_t {
    stub,   // it is a flasher stub: greets with OHAI and speaks esptool's stub protocol
    quiet,  // it never talks (a crash, or a program that is not a stub)
};

struct rom_config {
    chip_kind chip = chip_kind::esp32;
    timing speeds;
    fault_set faults;
    ram_code uploaded = ram_code::stub;
    std::uint32_t seed = 0x5EED;  // junk bytes are pseudo-random but repeatable
    // What the eFuses say. The MAC's OUI 00:00:00 stands for the chip's own Espressif prefix
    // (rom_chip::oui); no revision: the chip's usual one (rom_chip::revision).
    mac_address mac{0, 0, 0, 0x00, 0x00, 0x01};
    std::optional<chip_revision> revision;
};

// Bytes for the host's line. `at` is when the last of them has crossed the wire, so the driver
// writes them then; `baud` is the rate they were sent at (a host reading at another rate sees junk).
struct transmission {
    time_point at;
    bytes data;
    std::uint32_t baud;
};

struct rom_event {
    enum class kind : std::uint8_t {
        flash_written,  // the last block of a FLASH_BEGIN / FLASH_DEFL_BEGIN transfer is programmed
        flash_end,      // FLASH_END / FLASH_DEFL_END arrived
        booted,         // the chip (re)started: into the download loader or the application
        baud_changed,   // CHANGE_BAUDRATE took effect
        ram_exec,       // MEM_END jumped to uploaded code
        stub_started,   // ... and that code is a flasher stub: it sent OHAI
    };
    kind what = kind::booted;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    std::string md5;           // of flash[offset, offset + size)
    bool compressed = false;   // flash_written: through FLASH_DEFL_*
    bool reboot = false;       // flash_end: flag 0 (reboot) rather than 1 (run the application)
    boot_mode mode = boot_mode::download;  // booted
    std::string reason;        // booted: "reset", "flash_end", "start"
    std::uint32_t value = 0;   // baud_changed: new rate; ram_exec, stub_started: entry point
};

class rom_model {
public:
    struct reply;  // one command's answer (defined in the .cpp)

    rom_model(rom_config config, bytes initial_flash, log_sink& log = null_log());
    ~rom_model();
    rom_model(const rom_model&) = delete;
    rom_model& operator=(const rom_model&) = delete;

    // Powered up before anyone listened: no banner, straight into `mode`.
    void start(time_point now, boot_mode mode);
    // Bytes arrived from the host at `now`; the host's line runs at `host_baud`.
    void receive(byte_view data, time_point now, std::uint32_t host_baud);
    // EN held low: the chip stops; nothing it had queued is sent any more (the driver drops its queue).
    void hold_in_reset(time_point now);
    // EN released: the chip boots into `mode` and prints its banner.
    void boot(time_point now, boot_mode mode, std::string reason);
    // What the boot straps select when the chip reboots by itself (FLASH_END with flag 0).
    void set_strap(boot_mode mode) noexcept { strap_ = mode; }
    // Periodic output of a running application.
    void poll(time_point now);
    std::optional<time_point> next_wakeup() const noexcept;

    std::vector<transmission> take_output();
    std::vector<rom_event> take_events();

    // Junk that a line at `line_baud` shows for `data` sent at another rate.
    bytes garble(byte_view data);
    static bool rates_match(std::uint32_t a, std::uint32_t b) noexcept;

    const bytes& flash() const noexcept { return flash_.contents(); }
    const rom_chip& chip() const noexcept { return chip_; }
    // The MAC and revision the eFuses hold.
    const chip_fuses& fuses() const noexcept { return identity_; }
    std::uint32_t baud() const noexcept { return rom_baud_; }
    bool in_download_mode() const noexcept { return mode_ == mode::download; }
    bool stub_running() const noexcept { return mode_ == mode::stub; }

private:
    enum class mode { download, stub, app, ram_code, silent, in_reset };
    enum class transfer_kind { none, plain, deflate, ram };

    void handle_frame(byte_view frame, time_point arrived);
    reply dispatch(std::uint8_t opcode, std::uint32_t checksum, byte_view data);
    reply on_sync(byte_view data);
    reply on_read_reg(byte_view data);
    reply on_write_reg(byte_view data);
    reply on_spi_set_params(byte_view data);
    reply on_spi_attach(byte_view data);
    reply on_change_baudrate(byte_view data);
    reply on_flash_begin(byte_view data, bool compressed);
    reply on_flash_data(std::uint32_t checksum, byte_view data);
    reply on_deflate_data(std::uint32_t checksum, byte_view data);
    reply on_flash_end(byte_view data);
    reply on_mem_begin(byte_view data);
    reply on_mem_data(std::uint32_t checksum, byte_view data);
    reply on_mem_end(byte_view data);
    reply on_md5(byte_view data);
    reply on_read_flash_slow(byte_view data);
    reply on_security_info(byte_view data);

    // The flasher stub's personality (stub_personality.cpp).
    reply dispatch_stub(std::uint8_t opcode, std::uint32_t checksum, byte_view data);
    reply on_stub_flash_begin(byte_view data, bool compressed);
    reply on_stub_flash_data(std::uint32_t checksum, byte_view data, bool compressed);
    reply on_stub_flash_end(byte_view data);
    reply on_stub_md5(byte_view data);
    reply on_stub_erase_flash(byte_view data);
    reply on_stub_erase_region(byte_view data);
    reply on_stub_read_flash(byte_view data);
    std::optional<reply> stub_refuse_range(std::uint64_t offset, std::uint64_t size) const;
    // The background erases the stub started before `now`, then those a write of `length` bytes
    // at `address` still waits for: when the flash is ready to program it.
    time_point stub_erase_for(time_point now, std::uint32_t address, std::uint32_t length);
    // Programs what a block brought while the host sends the next one (how long after the
    // command started the flash is done); a failure is kept for the next reply.
    duration stub_program(std::uint32_t address, byte_view data);
    // MEM_END(0, entry): whatever the upload at `entry` does, from `at` on.
    void run_uploaded(time_point at, std::uint32_t entry);
    void start_stub(time_point at, std::uint32_t entry);
    void stub_read_ack(byte_view frame, time_point arrived);
    void stub_read_send(time_point from);
    bool entry_in_upload(std::uint32_t entry) const;

    std::uint32_t read_register(std::uint32_t address) const;
    void write_register(std::uint32_t address, std::uint32_t value);
    std::uint64_t initial_flash_size() const noexcept;
    bool flash_range_ok(std::uint64_t offset, std::uint64_t size) const noexcept;
    // SPI_FLASH_MD5 / READ_FLASH_SLOW: the refusal when the flash is not attached or the range is
    // beyond what the ROM knows.
    std::optional<reply> refuse_read(std::uint32_t address, std::uint32_t size) const;
    duration erase_time(erase_units units) const;
    duration write_time(std::uint64_t size) const;
    duration read_time(std::uint64_t size) const;
    duration wire_time(std::size_t size, std::uint32_t baud) const;
    void emit(time_point ready, bytes data, std::uint32_t baud);
    // FLASH_BEGIN / FLASH_DEFL_BEGIN accepted (`size`: erase size, or the uncompressed size).
    void begin_transfer(bool compressed, std::uint32_t size, std::uint32_t blocks, std::uint32_t block_size,
                        std::uint32_t offset);
    void finish_transfer(std::uint32_t size);
    // FLASH_END / FLASH_DEFL_END accepted: the flash_end event, and the transfer is over.
    void end_transfer(bool reboot);
    void reset_loader_state();
    // Programs `block` (the flip-byte faults applied); false when reading it back differs.
    bool program(std::uint32_t address, byte_view block);
    // The ROM's version: it programs and checks the block before it answers.
    bool program_block(std::uint32_t address, byte_view block, reply& r);
    std::uint32_t next_random();
    bytes junk(std::size_t min, std::size_t max, bool printable);

    rom_config config_;
    const rom_chip& chip_;
    chip_fuses identity_;
    flash_memory flash_;
    log_sink& log_;
    otaflash::rom::slip::decoder decoder_;

    mode mode_ = mode::download;
    boot_mode strap_ = boot_mode::download;
    std::uint32_t rom_baud_;
    bool baud_locked_ = false;    // after CHANGE_BAUDRATE the ROM no longer follows the host's rate
    bool spi_attached_ = false;
    bool noise_sent_ = false;
    std::uint64_t rom_flash_size_;  // what the ROM believes (SPI_SET_PARAMS), bounds every access
    std::map<std::uint32_t, std::uint32_t> registers_;
    std::map<std::uint32_t, std::uint32_t> fuses_;  // read-only: the MAC and revision words
    std::vector<std::uint32_t> failed_once_;

    struct transfer {
        transfer_kind kind = transfer_kind::none;
        std::uint32_t offset = 0;
        std::uint32_t erase_size = 0;
        std::uint32_t blocks = 0;
        std::uint32_t block_size = 0;
        std::uint32_t next_seq = 0;
        std::uint32_t written = 0;  // bytes programmed so far (deflate: uncompressed)
        bool complete = false;
        std::unique_ptr<zlib_inflater> inflate;
    } transfer_;
    std::uint32_t last_offset_ = 0, last_size_ = 0;  // for the flash_end event

    // What MEM_BEGIN/MEM_DATA uploaded, by segment address.
    struct ram_segment {
        std::uint32_t declared = 0;  // MEM_BEGIN's size
        bytes data;                  // what MEM_DATA brought
    };
    std::map<std::uint32_t, ram_segment> ram_;

    struct stub_state {
        std::uint32_t erase_next = 0;   // first sector of the write range not erased (nor being erased) yet
        time_point flash_free{};        // when the flash chip finishes the erase or program it was given
        std::uint32_t erase_end = 0;    // one past the last sector of the range
        std::uint32_t remaining = 0;    // bytes of the range still to be written
        std::uint8_t write_error = 0;   // a failed write, told in the next data/END reply
        struct reading {
            std::uint32_t offset = 0, length = 0, packet = 0, in_flight = 0;
            std::uint32_t sent = 0, acked = 0;
        };
        std::optional<reading> read;    // READ_FLASH streaming
    } stub_;

    time_point rx_clock_{};    // when the last received byte finished crossing the wire
    time_point busy_until_{};  // the ROM's CPU (erasing, programming) is busy until then
    time_point request_time_{};  // when the command being handled started (its handler's "now")
    time_point tx_clock_{};    // when the transmit line is free
    std::optional<time_point> next_heartbeat_;
    std::uint32_t heartbeats_ = 0;
    std::uint32_t random_state_;

    std::vector<transmission> output_;
    std::vector<rom_event> events_;
};

// ESP8266 ROM erase-size bug (§4.2): the sectors it really erases for FLASH_BEGIN(erase_size, offset).
struct sector_range {
    std::uint32_t first;
    std::uint32_t count;
};
// The erase_size a host sends to get exactly the sectors it needs is esptool's workaround,
// otaflash::rom::esp8266_erase_size.
sector_range esp8266_rom_erase(std::uint32_t erase_size, std::uint32_t offset) noexcept;

}  // namespace otaflash::emulator::rom
