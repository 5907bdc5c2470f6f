#include <otaflash/io/random.hpp>

#include <openssl/rand.h>

namespace otaflash {

result<bytes> random_bytes(std::size_t count) {
    bytes out(count);
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
        return make_failure(errc::internal_error, "the system's random number source failed",
                            "check that /dev/urandom is available");
    return out;
}

}  // namespace otaflash
