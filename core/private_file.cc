#include "core/private_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/bounded_file.h"

namespace shadow {

namespace {

// Why the file behind `fd` is not private, or "" when it is.
std::string private_problem(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::string("cannot stat: ") + std::strerror(errno);
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("mode ") + mode + " lets others read it; allowed: 0600 or stricter (chmod 600 " + path + ")";
  }
  if (st.st_uid != ::geteuid()) {
    return "owned by uid " + std::to_string(st.st_uid) + ", not by this user (uid " + std::to_string(::geteuid()) + ")";
  }
  return {};
}

}  // namespace

bool read_private_file(const std::string& path, std::size_t max_bytes, std::string& out, std::string& error) {
  std::size_t size = 0;
  const int fd = open_regular_file(path, error, &size);
  if (fd < 0) return false;
  error = private_problem(fd, path);
  const bool ok = error.empty() && read_open_file(fd, size, max_bytes, out, error);
  ::close(fd);
  return ok;
}

}  // namespace shadow
