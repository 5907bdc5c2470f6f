#pragma once
// Paths of the shared real-firmware fixtures and scratch files for tests.

#include <otaflash/util/bytes.hpp>

#include <string>

namespace otaflash::test {

// ../shared/fixtures/images/<name>
std::string fixture_image(const std::string& name);
bytes read_fixture_image(const std::string& name);

// A fresh private folder under $TMPDIR for one test, removed when the object goes.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const noexcept { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::string write(const std::string& name, byte_view data) const;
    std::string write(const std::string& name, const std::string& text) const;

private:
    std::string path_;
};

bytes slurp(const std::string& path);

// `n` pseudo-random bytes, the same for the same seed (incompressible test data).
bytes random_bytes(std::size_t n, unsigned seed);

}  // namespace otaflash::test
