// make_test_image CHIP BYTES OUT: writes a valid app image of about BYTES bytes for CHIP (app
// descriptor, flash-mapped data and code segments of pseudo-random bytes, checksum, SHA-256).
// For benchmarks and manual trials; the unit tests call the same builder directly.

#include "image_builder.hpp"

#include <otaflash/chip/chip.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>

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
    const bytes image = test::build_sized_app(c->id, static_cast<std::size_t>(wanted));
    std::ofstream out(argv[3], std::ios::binary);
    out.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
    if (!out) {
        std::fprintf(stderr, "make_test_image: cannot write %s\n", argv[3]);
        return 1;
    }
    return 0;
}
