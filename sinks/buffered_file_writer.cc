#include "sinks/buffered_file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shadow {

BufferedFileWriter::~BufferedFileWriter() { close(); }

bool BufferedFileWriter::open(const std::string& path, std::string_view what, std::string& error) {
  path_ = path;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    owns_fd_ = false;
    return true;
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = path + ": cannot create " + std::string(what) + ": " + std::strerror(errno);
    return false;
  }
  owns_fd_ = true;
  return true;
}

char* BufferedFileWriter::reserve(std::size_t n) {
  if (fd_ < 0 || failed()) return nullptr;
  if (kBufSize - used_ < n && !flush()) return nullptr;
  return buf_ + used_;
}

bool BufferedFileWriter::append(std::string_view s) {
  if (fd_ < 0 || failed()) return false;
  while (!s.empty()) {
    if (used_ == kBufSize && !flush()) return false;
    const std::size_t n = s.size() < kBufSize - used_ ? s.size() : kBufSize - used_;
    std::memcpy(buf_ + used_, s.data(), n);
    used_ += n;
    s.remove_prefix(n);
  }
  return true;
}

bool BufferedFileWriter::flush() {
  if (fd_ < 0 || failed()) return false;
  std::size_t off = 0;
  while (off < used_) {
    const ssize_t n = ::write(fd_, buf_ + off, used_ - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      errno_ = errno;
      error_ = path_ + ": write failed: " + std::strerror(errno_);
      used_ = 0;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  bytes_ += used_;
  used_ = 0;
  return true;
}

bool BufferedFileWriter::sync() {
  if (!flush()) return false;
  // EINVAL: as in close().
  if (owns_fd_ && ::fdatasync(fd_) != 0 && errno != EINVAL) {
    errno_ = errno;
    error_ = path_ + ": fdatasync failed: " + std::strerror(errno_);
    return false;
  }
  return true;
}

bool BufferedFileWriter::close() {
  if (fd_ < 0) return !failed();
  bool ok = flush();
  if (owns_fd_) {
    // EINVAL: the path is a pipe or a special file that cannot be synced; nothing is lost.
    if (ok && ::fsync(fd_) != 0 && errno != EINVAL) {
      errno_ = errno;
      error_ = path_ + ": fsync failed: " + std::strerror(errno_);
      ok = false;
    }
    if (::close(fd_) != 0 && ok) {
      errno_ = errno;
      error_ = path_ + ": close failed: " + std::strerror(errno_);
      ok = false;
    }
  }
  fd_ = -1;
  return ok;
}

}  // namespace shadow
