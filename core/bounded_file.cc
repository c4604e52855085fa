#include "core/bounded_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace shadow {

const char* file_kind(mode_t mode) noexcept {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "an unknown kind of file";
}

std::string byte_count_text(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes != 0 && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + " GiB";
  if (bytes != 0 && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes != 0 && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

namespace {

std::string not_regular(mode_t mode) { return std::string("is ") + file_kind(mode) + ", not a regular file"; }

}  // namespace

int open_regular_file(const std::string& path, std::string& error, std::size_t* size) {
  // stat() first: refusing a device or FIFO by its kind, without opening it, means no open()
  // side effect (a tape rewinding, a watchdog arming) and no wait.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    error = not_regular(st.st_mode);
    return -1;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return -1;
  }
  // The path may have been replaced between stat() and open(): what counts is the descriptor.
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    error = S_ISREG(st.st_mode) ? std::string("cannot stat: ") + std::strerror(err) : not_regular(st.st_mode);
    ::close(fd);
    return -1;
  }
  // Blocking reads from here on (O_NONBLOCK has no effect on regular files, but a caller may
  // hand the descriptor to code that expects the default).
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  if (size != nullptr) *size = static_cast<std::size_t>(st.st_size);
  return fd;
}

bool read_open_file(int fd, std::size_t size, std::size_t max_bytes, std::string& out, std::string& error) {
  const auto over = [&](const std::string& how) {
    error = how + ", over the limit of " + byte_count_text(max_bytes);
    return false;
  };
  if (size > max_bytes) return over("is " + std::to_string(size) + " bytes");
  out.clear();
  out.reserve(size);
  char buf[65536];
  for (;;) {
    // One byte past the limit is enough to know it is exceeded.
    const std::size_t want = std::min(sizeof buf, max_bytes - out.size() + 1);
    const ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("cannot read: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) return over("is more than " + std::to_string(max_bytes) + " bytes");
  }
  return true;
}

bool read_regular_file(const std::string& path, std::size_t max_bytes, std::string& out, std::string& error) {
  std::size_t size = 0;
  const int fd = open_regular_file(path, error, &size);
  if (fd < 0) return false;
  const bool ok = read_open_file(fd, size, max_bytes, out, error);
  ::close(fd);
  return ok;
}

}  // namespace shadow
