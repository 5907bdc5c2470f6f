#include <otaflash/io/file.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace otaflash {
namespace {

failure open_failure(const std::string& path, int err) {
    switch (err) {
    case ENOENT:
        return make_failure(errc::file_not_found, "no such file: " + path, "check the path and the current directory");
    case EACCES:
    case EPERM:
        return make_failure(errc::file_unreadable, "permission denied reading " + path,
                            "check the file's permissions");
    default:
        return make_failure(errc::file_unreadable, "cannot read " + path + ": " + std::strerror(err));
    }
}

struct fd_guard {
    int fd;
    ~fd_guard() { if (fd >= 0) ::close(fd); }
};

// Only regular files: opening a FIFO blocks until a writer comes (and no signal ends that), and
// opening a serial device node can reset the board on it.
std::optional<failure> not_regular(const std::string& path, mode_t mode) {
    if (S_ISREG(mode)) return std::nullopt;
    if (S_ISDIR(mode))
        return make_failure(errc::file_unreadable, path + " is a directory, not a file",
                            "give the path of a firmware file");
    const char* kind = S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device"
                       : S_ISSOCK(mode) ? "a socket" : "not a file";
    return make_failure(errc::file_unreadable, path + " is not a regular file (" + kind + ")",
                        "write the data to a file first and give its path");
}

}  // namespace

namespace {

// Reads until `out` is full or the file ends; the number of bytes read.
result<std::size_t> read_into(int fd, const std::string& path, std::uint8_t* out, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::read(fd, out + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return open_failure(path, errno);
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    return got;
}

result<bytes> read_checked(const std::string& path, bool allow_empty, std::uint64_t max_size, const head_check* check) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) return open_failure(path, errno);
    if (auto refused = not_regular(path, st.st_mode)) return *refused;
    // O_NONBLOCK: should the path become a FIFO after the check, open() still returns at once.
    fd_guard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (file.fd < 0) return open_failure(path, errno);
    if (::fstat(file.fd, &st) != 0) return open_failure(path, errno);
    if (auto refused = not_regular(path, st.st_mode)) return *refused;
    if (static_cast<std::uint64_t>(st.st_size) > max_size)
        return make_failure(errc::image_too_large,
                            path + " is " + std::to_string(st.st_size) + " bytes, more than the " +
                                std::to_string(max_size) + "-byte limit",
                            "is this really a firmware image?");
    if (st.st_size == 0 && !allow_empty)
        return make_failure(errc::file_empty, path + " is empty (0 bytes)", "rebuild the firmware or check the path");

    const auto size = static_cast<std::size_t>(st.st_size);
    bytes data;
    std::size_t got = 0;
    if (check && *check) {
        data.resize(std::min(size, head_size));
        auto head = read_into(file.fd, path, data.data(), data.size());
        if (!head) return std::move(head).error();
        got = *head;
        if (auto refused = (*check)(byte_view(data).first(got), st.st_size)) return *refused;
    }
    data.resize(size);
    auto rest = read_into(file.fd, path, data.data() + got, size - got);
    if (!rest) return std::move(rest).error();
    if (got + *rest != size)
        return make_failure(errc::file_unreadable, path + " shrank while it was being read", "is it still being written?");
    return data;
}

}  // namespace

result<bytes> read_file(const std::string& path, bool allow_empty, std::uint64_t max_size) {
    return read_checked(path, allow_empty, max_size, nullptr);
}

result<bytes> read_file_checked(const std::string& path, const head_check& check, std::uint64_t max_size) {
    return read_checked(path, false, max_size, &check);
}

result<void> write_file_atomic(const std::string& path, byte_view data) {
    const std::string temp = path + ".tmp." + std::to_string(::getpid());
    fd_guard file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (file.fd < 0)
        return make_failure(errc::write_failed, "cannot create " + temp + ": " + std::strerror(errno),
                            "check that the folder exists and is writable");
    std::size_t put = 0;
    while (put < data.size()) {
        ssize_t n = ::write(file.fd, data.data() + put, data.size() - put);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            ::unlink(temp.c_str());
            return make_failure(errc::write_failed, "cannot write " + temp + ": " + std::strerror(err));
        }
        put += static_cast<std::size_t>(n);
    }
    if (::fsync(file.fd) != 0 || ::rename(temp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        return make_failure(errc::write_failed, "cannot replace " + path + ": " + std::strerror(err));
    }
    return {};
}

}  // namespace otaflash
