#include "sinks/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace shadow {
namespace {

std::string dir_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool fail(std::string& error, const std::string& path, const char* step) {
  error = path + ": " + step + ": " + std::strerror(errno);
  return false;
}

}  // namespace

bool fsync_directory(const std::string& dir, std::string& error) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(error, dir, "cannot open the directory");
  const bool ok = ::fsync(fd) == 0;
  if (!ok) fail(error, dir, "fsync of the directory");
  ::close(fd);
  return ok;
}

bool write_file_atomically(const std::string& path, std::string_view content, std::string& error) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(error, tmp, "cannot create");
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(error, tmp, "write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    fail(error, tmp, "fsync");
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    fail(error, path, "rename");
    ::unlink(tmp.c_str());
    return false;
  }
  return fsync_directory(dir_of(path), error);
}

bool replace_symlink(const std::string& target, const std::string& link, std::string& error) {
  const std::string tmp = link + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) return fail(error, tmp, "symlink");
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    fail(error, link, "rename");
    ::unlink(tmp.c_str());
    return false;
  }
  return fsync_directory(dir_of(link), error);
}

}  // namespace shadow
