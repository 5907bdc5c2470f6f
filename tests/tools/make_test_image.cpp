// make_test_image CHIP BYTES OUT: writes a valid app image of about BYTES bytes for CHIP (app
// descriptor, flash-mapped data and code segments of pseudo-random bytes, checksum, SHA-256).
// For benchmarks and manual trials; the unit tests call the same builder directly.

#include "image_builder.hpp"

#include <otaflash/chip/chip.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

using namespace otaflash;

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: make_test_image CHIP BYTES OUT\n");
        return 2;
    }
    const chip_info* c = find_chip(argv[1]);
    const long long wanted = std::atoll(argv[2]);
    if (!c || c->id == chip::esp8266 || wanted < 4096 || wanted > (64ll << 20)) {
        std::fprintf(stderr, "make_test_image: need an ESP32-family chip and 4096..64 MiB bytes\n");
        return 2;
    }
    std::uint32_t irom = 0, drom = 0;
    for (const auto& r : c->memory_map) {
        if (!irom && (r.kind == region_kind::irom || r.kind == region_kind::flash)) irom = r.start;
        if (!drom && (r.kind == region_kind::drom || r.kind == region_kind::flash)) drom = r.start;
    }
    // Two flash segments share what is left after headers, descriptor, RAM code and trailer.
    const auto half = static_cast<std::size_t>((wanted - 1024) / 2) & ~std::size_t{3};
    std::mt19937 rng(2026);
    bytes data(half), code(half);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    for (auto& b : code) b = static_cast<std::uint8_t>(rng());

    test::image_spec spec;
    spec.target = c->id;
    spec.app = test::app_desc_spec{};
    spec.segments = {{drom + 0x10000, std::move(data)},
                     {irom + 0x20, std::move(code)},
                     {test::code_ram_address(c->id) + 0x100, bytes(256, 0x11)}};
    spec.entry = test::code_ram_address(c->id) + 0x100;
    const bytes image = test::build_image(spec);
    std::ofstream out(argv[3], std::ios::binary);
    out.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
    if (!out) {
        std::fprintf(stderr, "make_test_image: cannot write %s\n", argv[3]);
        return 1;
    }
    return 0;
}
