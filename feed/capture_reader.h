// CaptureReader: reads capture files line by line, ready for simdjson.
//
// DESIGN.md "Capture files": one message per line, `<local_receive_ns> <raw message>` (the
// layout of hftbacktest's public recordings) or plain JSONL without the prefix; either may be
// gzip-compressed (.gz or not: zlib reads plain files transparently). Lines are handed out as
// views into an internal buffer that always has at least kCapturePadding readable bytes after
// every line, which is what simdjson's On-Demand parser needs to read without copying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace shadow {

inline constexpr std::size_t kCapturePadding = 64;  // >= simdjson::SIMDJSON_PADDING

struct CaptureLine {
  const char* data = nullptr;  // the raw message (prefix and line ending stripped)
  std::size_t len = 0;
  std::size_t capacity = 0;    // readable bytes from data: len + at least kCapturePadding
  std::int64_t local_ns = 0;   // the `<local_receive_ns>` prefix; 0 for plain JSONL
  std::size_t line_no = 0;     // 1-based line number in the file, for error messages
};

class CaptureReader {
 public:
  // Opens `path`. On failure returns false and sets `error` to a message naming the file.
  bool open(const std::string& path, std::string& error);

  // Reads the whole (decompressed) file into memory now, so next() never touches the disk.
  // Used by benchmarks and by `shadow-replay --preload` to time decode + book alone.
  bool preload(std::string& error);

  // Next non-empty line, or false at the end of the file or on a read error (see error()).
  bool next(CaptureLine& line);

  const std::string& error() const noexcept { return error_; }
  const std::string& path() const noexcept { return path_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }  // decompressed bytes
  std::uint64_t lines() const noexcept { return line_no_; }

  CaptureReader() = default;
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;
  ~CaptureReader();

 private:
  bool fill();  // reads more bytes after moving the unread tail to the front

  void* gz_ = nullptr;  // gzFile, kept opaque so zlib.h stays out of this header
  std::string path_;
  std::string error_;
  std::vector<char> buf_;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  std::uint64_t bytes_read_ = 0;
  std::size_t line_no_ = 0;
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
