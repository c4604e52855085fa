// CaptureReader: reads capture files line by line, ready for simdjson.
//
// DESIGN.md "Capture files": one message per line, `<local_receive_ns> <raw message>` (the
// layout of hftbacktest's public recordings) or plain JSONL without the prefix; either may be
// gzip-compressed (.gz or not: zlib reads plain files transparently). Lines are handed out as
// views into an internal buffer that always has at least kCapturePadding readable bytes after
// every line, which is what simdjson's On-Demand parser needs to read without copying.
//
// Input is external, so the reader is bounded (feed/README.md "Capture files"):
// - only regular files are opened; a directory, device, FIFO or socket is refused (open() never
//   blocks on a FIFO) with a message naming the path and what it is;
// - a file in another compression format (zstd, xz, bzip2, zip: found by its magic bytes) is
//   refused with the command that decompresses it; gzip is read;
// - a line longer than max_line_bytes is read through to its newline without being buffered
//   (memory stays bounded by max_line_bytes + read_chunk) and handed out as a `too_long` line
//   with no text: the decoders count it as malformed, callers report too_long_message();
// - a gzip stream that ends early or is corrupt ends the file with error(), kind kBadInput.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/default_init.h"

namespace shadow {

inline constexpr std::size_t kCapturePadding = 64;  // >= simdjson::SIMDJSON_PADDING

struct CaptureLine {
  const char* data = nullptr;  // the raw message (prefix and line ending stripped)
  std::size_t len = 0;
  std::size_t capacity = 0;    // readable bytes from data: len + at least kCapturePadding
  std::int64_t local_ns = 0;   // the `<local_receive_ns>` prefix; 0 for plain JSONL
  std::size_t line_no = 0;     // 1-based line number in the file, for error messages
  // The line was longer than the reader's max_line_bytes and was skipped: len is 0 and data
  // points at kCapturePadding zero bytes (a decoder sees an empty message, an error).
  bool too_long = false;
};

struct CaptureReaderOptions {
  // Longest line accepted, without its line ending. The default is 64× the longest line of
  // the recorded samples (a Binance spot depth line of 64 KB; Bybit ob500 snapshots reach
  // 18 KB) and 16× a Binance REST snapshot of 5000 levels per side (~250 KB).
  static constexpr std::size_t kDefaultMaxLineBytes = std::size_t{4} << 20;
  std::size_t max_line_bytes = kDefaultMaxLineBytes;
  // Bytes asked of the file per read (tests and the fuzzer use tiny values to put line and
  // buffer boundaries everywhere).
  std::size_t read_chunk = std::size_t{4} << 20;
};

// Why a CaptureReader stopped with an error (the exit code a program gives for it).
enum class CaptureErrorKind : std::uint8_t {
  kNone,
  kBadInput,  // cannot open, not a regular file, other compression, corrupt/truncated gzip
  kIo,        // the operating system failed a read (EIO, ...): a runtime failure
};

class CaptureReader {
 public:
  CaptureReader() : CaptureReader(CaptureReaderOptions{}) {}
  explicit CaptureReader(CaptureReaderOptions options);
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;
  ~CaptureReader();

  // Opens `path`: a regular file, plain or gzip. On failure returns false and sets `error` to
  // a message naming the file (error_kind() is kBadInput).
  bool open(const std::string& path, std::string& error);

  // Reads capture text from memory (not copied: `bytes` must outlive the reader) through the
  // same line splitting as a file, `read_chunk` bytes at a time; `name` stands for the path
  // in messages. The magic-byte check applies; gzip is not decompressed here (refused).
  bool open_memory(std::string_view bytes, std::string name, std::string& error);

  // Reads the whole (decompressed) file into memory now, so next() never touches the disk.
  // Used by benchmarks and by `shadow-replay --preload` to time decode + book alone; memory
  // then grows with the file (the line limit still applies to what next() hands out).
  bool preload(std::string& error);

  // Next non-empty line, or false at the end of the file or on a read error (see error()).
  bool next(CaptureLine& line);

  const std::string& error() const noexcept { return error_; }
  CaptureErrorKind error_kind() const noexcept { return error_kind_; }
  const std::string& path() const noexcept { return path_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }  // decompressed bytes
  std::uint64_t lines() const noexcept { return line_no_; }
  std::uint64_t too_long_lines() const noexcept { return too_long_lines_; }
  std::size_t max_line_bytes() const noexcept { return opt_.max_line_bytes; }
  // Bytes the line buffer holds now (bounded by max_line_bytes + read_chunk without preload).
  std::size_t buffer_bytes() const noexcept { return buf_.size(); }

  // "PATH: line N is longer than M bytes (skipped)" for a too_long line.
  std::string too_long_message(const CaptureLine& line) const;

 private:
  bool check_file_kind(const char* head, std::size_t n, std::string& error);
  // Reads up to `room` bytes at `dst`: >0 bytes, 0 at the end, -1 on an error (error_ set).
  long read_some(char* dst, std::size_t room);
  bool fill();            // reads more bytes after moving the unread tail to the front
  bool skip_long_line();  // discards input up to and including the next '\n'

  CaptureReaderOptions opt_;
  void* gz_ = nullptr;  // gzFile, kept opaque so zlib.h stays out of this header
  std::string_view mem_;  // open_memory(): the bytes not yet read
  bool from_memory_ = false;
  std::string path_;
  std::string error_;
  CaptureErrorKind error_kind_ = CaptureErrorKind::kNone;
  // Not zeroed when it grows (core/default_init.h): its pages are touched when read into.
  std::vector<char, DefaultInitAllocator<char>> buf_;
  std::size_t max_buf_ = 0;  // data bytes the buffer may grow to (excluding padding)
  std::size_t begin_ = 0;    // first unread byte
  std::size_t end_ = 0;      // one past the last valid byte
  bool eof_ = false;
  bool preloading_ = false;
  std::uint64_t bytes_read_ = 0;
  std::size_t line_no_ = 0;
  std::uint64_t too_long_lines_ = 0;
};

// A whole capture file in memory (CaptureReader::preload), one CaptureLine per non-empty line,
// each (data, len, capacity) ready for the decoders' padded-buffer contract: what benchmarks,
// tests and repeated passes over a sample want. The views point into `reader`'s buffer, which
// stays put for as long as the reader lives. Allocates freely: not for the hot path.
struct CaptureFile {
  std::unique_ptr<CaptureReader> reader;
  std::vector<CaptureLine> messages;
  std::size_t bytes = 0;  // sum of message lengths
  std::string error;      // why ok is false
  bool ok = false;
};
CaptureFile load_capture(const std::string& path);

}  // namespace shadow
