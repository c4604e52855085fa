// BufferedFileWriter: an append-only file behind a 64 KiB buffer, written with write(2) when
// the buffer fills and fsynced at close. The byte layer shared by the sinks/ writers (the book
// trace, shadow-record's capture), so a sink formats into memory and pays one syscall per
// buffer, never one per line. Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shadow {

class BufferedFileWriter {
 public:
  static constexpr std::size_t kBufSize = 64 * 1024;

  BufferedFileWriter() = default;
  BufferedFileWriter(const BufferedFileWriter&) = delete;
  BufferedFileWriter& operator=(const BufferedFileWriter&) = delete;
  ~BufferedFileWriter();

  // Creates (truncates) `path`; "-" writes to standard output (never fsynced or closed). False
  // with `error` = "<path>: cannot create <what>: <reason>" on failure.
  bool open(const std::string& path, std::string_view what, std::string& error);

  // At least `n` (<= kBufSize) writable bytes, writing the buffer out first when fewer are free.
  // Fill them, then commit(end). nullptr when not open or once a write has failed.
  char* reserve(std::size_t n);
  void commit(const char* end) noexcept { used_ = static_cast<std::size_t>(end - buf_); }

  // Appends `s` of any length (copied through the buffer). False once a write has failed.
  bool append(std::string_view s);

  // Writes out the buffer. False with error() set (and last_errno()) when write(2) failed; the
  // buffered bytes are then dropped and every later call fails.
  bool flush();

  // flush(), then fdatasync: what was appended so far survives a crash and the file stays open
  // (a JSONL sink syncs at each iteration end). False with error() set on failure.
  bool sync();

  // flush(), then for files fsync and close. False with error() set on failure.
  bool close();

  bool is_open() const noexcept { return fd_ >= 0; }
  bool failed() const noexcept { return !error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  int last_errno() const noexcept { return errno_; }
  const std::string& path() const noexcept { return path_; }
  std::uint64_t bytes() const noexcept { return bytes_ + used_; }  // appended so far

 private:
  int fd_ = -1;
  bool owns_fd_ = false;
  int errno_ = 0;
  std::string path_;
  std::string error_;
  std::uint64_t bytes_ = 0;  // written out by flush()
  std::size_t used_ = 0;
  char buf_[kBufSize];
};

}  // namespace shadow
