// BookTraceWriter: the book trace, one line per book message applied to a synced book.
//
//   symbol<TAB>update_id<TAB>best_bid_px<TAB>best_bid_qty<TAB>best_ask_px<TAB>best_ask_qty
//
// Decimals are canonical (no trailing zeros: "65140", "65239.1", "0.5"); an empty side is "-"
// in both of its columns. This format is a contract: independent implementations compare their
// traces of the same recording line by line, so it never changes silently.
//
// Lines are formatted into a 64 KiB buffer (sinks/buffered_file_writer.h) and written with
// write(2) when it fills, so tracing costs one syscall per few thousand lines. Single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/market_event.h"
#include "sinks/buffered_file_writer.h"

namespace shadow {

class BookTraceWriter {
 public:
  BookTraceWriter() = default;
  BookTraceWriter(const BookTraceWriter&) = delete;
  BookTraceWriter& operator=(const BookTraceWriter&) = delete;
  ~BookTraceWriter() { close(); }

  // Creates (truncates) `path`; "-" writes to standard output. False with `error` set on failure.
  bool open(const std::string& path, std::string& error);

  // Appends one line. `best_bid`/`best_ask` with qty 0 mean the side is empty. Returns false once
  // a write has failed (see error()); later calls do nothing.
  bool write(std::string_view symbol, std::uint64_t update_id, Level best_bid, Level best_ask);

  // Writes out the buffer and, for files, fsyncs and closes. False with error() set on failure,
  // including a write that failed earlier (a trace cut short is never reported as complete).
  bool close();

  const std::string& error() const noexcept { return error_; }
  std::uint64_t lines() const noexcept { return lines_; }

 private:
  void note_write_error();

  static constexpr std::size_t kMaxLine = 256;
  BufferedFileWriter out_;
  std::string error_;
  std::uint64_t lines_ = 0;
};

}  // namespace shadow
