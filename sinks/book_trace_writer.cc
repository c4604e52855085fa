#include "sinks/book_trace_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace shadow {

BookTraceWriter::~BookTraceWriter() { close(); }

bool BookTraceWriter::open(const std::string& path, std::string& error) {
  path_ = path;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    owns_fd_ = false;
    return true;
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = path + ": cannot create book trace: " + std::strerror(errno);
    return false;
  }
  owns_fd_ = true;
  return true;
}

bool BookTraceWriter::write(std::string_view symbol, std::uint64_t update_id, Level best_bid,
                            Level best_ask) {
  if (fd_ < 0 || !error_.empty()) return false;
  if (kBufSize - used_ < kMaxLine + symbol.size() && !flush()) return false;
  char* p = buf_ + used_;
  std::memcpy(p, symbol.data(), symbol.size());
  p += symbol.size();
  *p++ = '\t';
  p = std::to_chars(p, p + 24, update_id).ptr;
  for (const Level& l : {best_bid, best_ask}) {
    *p++ = '\t';
    if (l.qty == 0) {
      *p++ = '-';
      *p++ = '\t';
      *p++ = '-';
      continue;
    }
    p += format_fixed(l.px, p);
    *p++ = '\t';
    p += format_fixed(l.qty, p);
  }
  *p++ = '\n';
  used_ = static_cast<std::size_t>(p - buf_);
  ++lines_;
  return true;
}

bool BookTraceWriter::flush() {
  std::size_t off = 0;
  while (off < used_) {
    const ssize_t n = ::write(fd_, buf_ + off, used_ - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = path_ + ": write failed after " + std::to_string(lines_) + " lines: " +
               std::strerror(errno);
      used_ = 0;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  used_ = 0;
  return true;
}

bool BookTraceWriter::close() {
  if (fd_ < 0) return error_.empty();
  bool ok = flush();
  if (owns_fd_) {
    if (ok && ::fsync(fd_) != 0 && errno != EINVAL) {
      error_ = path_ + ": fsync failed: " + std::strerror(errno);
      ok = false;
    }
    if (::close(fd_) != 0 && ok) {
      error_ = path_ + ": close failed: " + std::strerror(errno);
      ok = false;
    }
  }
  fd_ = -1;
  return ok;
}

}  // namespace shadow
