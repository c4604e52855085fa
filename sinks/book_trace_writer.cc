#include "sinks/book_trace_writer.h"

#include <charconv>
#include <cstring>

namespace shadow {

bool BookTraceWriter::open(const std::string& path, std::string& error) {
  return out_.open(path, "book trace", error);
}

bool BookTraceWriter::write(std::string_view symbol, std::uint64_t update_id, Level best_bid,
                            Level best_ask) {
  if (!out_.is_open() || !error_.empty()) return false;
  char* p = out_.reserve(kMaxLine + symbol.size());
  if (p == nullptr) {
    note_write_error();
    return false;
  }
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
  out_.commit(p);
  ++lines_;
  return true;
}

void BookTraceWriter::note_write_error() {
  if (!error_.empty()) return;
  error_ = out_.path() + ": write failed after " + std::to_string(lines_) + " lines: " +
           std::strerror(out_.last_errno());
}

bool BookTraceWriter::close() {
  if (!out_.is_open()) return error_.empty();
  if (error_.empty() && !out_.flush()) note_write_error();
  const bool ok = out_.close();  // fsync + close; false as well after an earlier write failure
  if (!ok && error_.empty()) error_ = out_.error();
  return ok && error_.empty();
}

}  // namespace shadow
