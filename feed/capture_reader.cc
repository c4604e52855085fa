#include "feed/capture_reader.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace shadow {
namespace {

constexpr std::size_t kChunk = std::size_t{4} << 20;  // read 4 MiB at a time

// Splits an optional `<digits> ` prefix off a line. Returns the prefix value in `ns` and
// advances `p`; a line that does not start with digits and a space is plain JSON.
void split_prefix(const char*& p, const char* end, std::int64_t& ns) {
  const char* q = p;
  std::uint64_t v = 0;
  while (q < end && static_cast<unsigned char>(*q - '0') <= 9 && q - p < 19) {
    v = v * 10 + static_cast<unsigned>(*q - '0');
    ++q;
  }
  if (q > p && q < end && *q == ' ') {
    ns = static_cast<std::int64_t>(v);
    p = q + 1;
  }
}

}  // namespace

CaptureReader::~CaptureReader() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

bool CaptureReader::open(const std::string& path, std::string& error) {
  path_ = path;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    error = path + ": cannot open: " + std::strerror(errno != 0 ? errno : ENOENT);
    return false;
  }
  gzbuffer(f, 1u << 18);
  gz_ = f;
  buf_.resize(kChunk + kCapturePadding);
  return true;
}

bool CaptureReader::fill() {
  if (eof_) return false;
  // Move the unread tail to the front, then grow when a single line fills the buffer.
  const std::size_t tail = end_ - begin_;
  if (begin_ != 0) std::memmove(buf_.data(), buf_.data() + begin_, tail);
  begin_ = 0;
  end_ = tail;
  if (buf_.size() - kCapturePadding - end_ < kChunk / 2) buf_.resize(buf_.size() * 2);
  const std::size_t room = buf_.size() - kCapturePadding - end_;
  const int n = gzread(static_cast<gzFile>(gz_), buf_.data() + end_,
                       static_cast<unsigned>(room > (1u << 30) ? (1u << 30) : room));
  if (n <= 0) {
    // zlib reports a truncated gzip member as Z_BUF_ERROR ("unexpected end of file") once the
    // data before the damage has been returned, so an end of file is checked too.
    int errnum = Z_OK;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &errnum);
    if (n < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
      error_ = path_ + ": read error after line " + std::to_string(line_no_) + ": " + msg;
    }
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  bytes_read_ += static_cast<std::uint64_t>(n);
  std::memset(buf_.data() + end_, 0, kCapturePadding);
  return true;
}

bool CaptureReader::preload(std::string& error) {
  while (fill()) {
  }
  if (!error_.empty()) {
    error = error_;
    return false;
  }
  return true;
}

bool CaptureReader::next(CaptureLine& line) {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const char* stop = buf_.data() + end_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    if (nl == nullptr && !eof_) {
      fill();
      continue;
    }
    if (nl == nullptr && begin_ == end_) return false;  // end of file, nothing left
    const char* line_end = nl != nullptr ? nl : stop;   // last line may lack '\n'
    begin_ = static_cast<std::size_t>(line_end - buf_.data()) + (nl != nullptr ? 1 : 0);
    ++line_no_;
    const char* p = start;
    const char* e = line_end;
    if (e > p && e[-1] == '\r') --e;
    if (e == p) continue;  // blank line
    line.local_ns = 0;
    split_prefix(p, e, line.local_ns);
    line.data = p;
    line.len = static_cast<std::size_t>(e - p);
    // Everything after the line up to the buffer's padded end is readable.
    line.capacity = static_cast<std::size_t>(buf_.data() + buf_.size() - p);
    line.line_no = line_no_;
    return true;
  }
}

CaptureFile load_capture(const std::string& path) {
  CaptureFile f;
  f.reader = std::make_unique<CaptureReader>();
  if (!f.reader->open(path, f.error) || !f.reader->preload(f.error)) return f;
  CaptureLine line;
  while (f.reader->next(line)) {
    f.messages.push_back(line);
    f.bytes += line.len;
  }
  f.error = f.reader->error();
  f.ok = f.error.empty();
  return f;
}

}  // namespace shadow
