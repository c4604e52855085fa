#include "feed/capture_reader.h"

#include "core/bounded_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace shadow {
namespace {

// What a capture line too long to keep is handed out as: an empty message with its padding.
alignas(64) constexpr char kEmptyLine[kCapturePadding] = {};

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

// Compression formats zlib cannot read, by their magic bytes: name and how to undo it.
struct Magic {
  const char* bytes;
  std::size_t len;
  const char* format;
  const char* command;
};
constexpr Magic kForeignFormats[] = {
    {"\x28\xB5\x2F\xFD", 4, "zstd", "zstd -d"},
    {"\xFD\x37\x7A\x58\x5A\x00", 6, "xz", "xz -d"},
    {"BZh", 3, "bzip2", "bzip2 -d"},
    {"PK\x03\x04", 4, "zip", "unzip"},
};

}  // namespace

CaptureReader::CaptureReader(CaptureReaderOptions options) : opt_(options) {
  if (opt_.max_line_bytes == 0) opt_.max_line_bytes = 1;
  if (opt_.read_chunk == 0) opt_.read_chunk = 1;
  // A line of max_line_bytes, its "\r\n" and one more read must fit.
  max_buf_ = opt_.max_line_bytes + 2 + opt_.read_chunk;
}

CaptureReader::~CaptureReader() {
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

bool CaptureReader::check_file_kind(const char* head, std::size_t n, std::string& error) {
  for (const Magic& m : kForeignFormats) {
    if (n >= m.len && std::memcmp(head, m.bytes, m.len) == 0) {
      error = path_ + ": is " + m.format + "-compressed; decompress it first (" + m.command + ")";
      error_kind_ = CaptureErrorKind::kBadInput;
      return false;
    }
  }
  return true;
}

bool CaptureReader::open(const std::string& path, std::string& error) {
  path_ = path;
  error_kind_ = CaptureErrorKind::kBadInput;  // until the file is open
  // The one regular-file gate (core/bounded_file.h): a device, FIFO or socket is refused by its
  // kind before it is opened, and opening never waits for a FIFO's writer.
  std::string why;
  const int fd = open_regular_file(path, why);
  if (fd < 0) {
    error = path + ": " + why + (why.rfind("is ", 0) == 0 ? " (only regular files are read)" : "");
    return false;
  }
  char head[8] = {};
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  if (n < 0) {
    error = path + ": cannot read: " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (!check_file_kind(head, static_cast<std::size_t>(n), error)) {
    ::close(fd);
    return false;
  }
  gzFile f = gzdopen(fd, "rb");  // owns fd from here; reads plain files transparently
  if (f == nullptr) {
    error = path + ": cannot open: out of memory";
    ::close(fd);
    return false;
  }
  gzbuffer(f, 1u << 18);
  gz_ = f;
  error_kind_ = CaptureErrorKind::kNone;
  buf_.resize(std::min(opt_.read_chunk, max_buf_) + kCapturePadding);
  return true;
}

bool CaptureReader::open_memory(std::string_view bytes, std::string name, std::string& error) {
  path_ = std::move(name);
  if (!check_file_kind(bytes.data(), bytes.size(), error)) return false;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1F &&
      static_cast<unsigned char>(bytes[1]) == 0x8B) {
    error = path_ + ": is gzip-compressed; in-memory input must be plain text";
    error_kind_ = CaptureErrorKind::kBadInput;
    return false;
  }
  mem_ = bytes;
  from_memory_ = true;
  buf_.resize(std::min(opt_.read_chunk, max_buf_) + kCapturePadding);
  return true;
}

long CaptureReader::read_some(char* dst, std::size_t room) {
  room = std::min({room, opt_.read_chunk, std::size_t{1} << 30});
  if (from_memory_) {
    const std::size_t n = std::min(room, mem_.size());
    if (n != 0) std::memcpy(dst, mem_.data(), n);
    mem_.remove_prefix(n);
    return static_cast<long>(n);
  }
  gzFile gz = static_cast<gzFile>(gz_);
  const int n = gzread(gz, dst, static_cast<unsigned>(room));
  if (n > 0) return n;
  // zlib reports a truncated gzip member as Z_BUF_ERROR ("unexpected end of file") once the
  // data before the damage has been returned, so an end of file is checked too.
  int errnum = Z_OK;
  const char* msg = gzerror(gz, &errnum);
  if (n == 0 && (errnum == Z_OK || errnum == Z_STREAM_END)) return 0;
  // gzdopen() names the file "<fd:N>" in zlib's message; the path is already in front.
  if (std::strncmp(msg, "<fd:", 4) == 0 && std::strstr(msg, ": ") != nullptr) msg = std::strstr(msg, ": ") + 2;
  const std::string at = path_ + ": read error after line " + std::to_string(line_no_) + ": ";
  if (errnum == Z_ERRNO) {
    error_ = at + std::strerror(errno);
    error_kind_ = CaptureErrorKind::kIo;
  } else {
    const bool truncated = errnum == Z_BUF_ERROR;
    error_ = at + (truncated ? "gzip stream truncated (" : "gzip data corrupt (") + msg + ")";
    error_kind_ = CaptureErrorKind::kBadInput;
  }
  return -1;
}

bool CaptureReader::fill() {
  if (eof_ || (gz_ == nullptr && !from_memory_)) return false;
  // Move the unread tail to the front, then grow when a long line leaves under half a read of
  // room (not sooner: every new page is a page fault, which is most of the cost of growing).
  const std::size_t tail = end_ - begin_;
  if (begin_ != 0 && tail != 0) std::memmove(buf_.data(), buf_.data() + begin_, tail);
  begin_ = 0;
  end_ = tail;
  std::size_t data_size = buf_.size() - kCapturePadding;
  const std::size_t min_room = opt_.read_chunk / 2 > 0 ? opt_.read_chunk / 2 : 1;
  if (data_size - end_ < min_room && (preloading_ || data_size < max_buf_)) {
    std::size_t grow = std::max(data_size * 2, end_ + opt_.read_chunk);
    if (!preloading_) grow = std::min(grow, max_buf_);
    buf_.resize(grow + kCapturePadding);
    data_size = grow;
  }
  const long n = read_some(buf_.data() + end_, data_size - end_);
  if (n <= 0) {
    eof_ = true;
    std::memset(buf_.data() + end_, 0, kCapturePadding);
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  bytes_read_ += static_cast<std::uint64_t>(n);
  std::memset(buf_.data() + end_, 0, kCapturePadding);
  return true;
}

bool CaptureReader::skip_long_line() {
  // The buffer's bytes are all part of the long line: drop them and read on, reusing the
  // buffer, until a '\n' (whatever follows it stays) or the end of the file.
  for (;;) {
    begin_ = end_ = 0;
    if (!fill()) return false;
    const char* nl = static_cast<const char*>(std::memchr(buf_.data(), '\n', end_));
    if (nl != nullptr) {
      begin_ = static_cast<std::size_t>(nl - buf_.data()) + 1;
      return true;
    }
  }
}

bool CaptureReader::preload(std::string& error) {
  preloading_ = true;
  while (fill()) {
  }
  if (!error_.empty()) {
    error = error_;
    return false;
  }
  return true;
}

bool CaptureReader::next(CaptureLine& line) {
  if (!error_.empty()) return false;
  for (;;) {
    const std::size_t avail = end_ - begin_;
    const char* start = buf_.data() + begin_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
    // Without a '\n' in sight a line longer than the limit (plus a possible '\r') is not kept.
    if (nl == nullptr && avail > opt_.max_line_bytes + 1 && !preloading_) {
      const bool more = skip_long_line();
      if (!error_.empty()) return false;
      if (!more) begin_ = end_ = 0;
      ++line_no_;
      ++too_long_lines_;
      line = CaptureLine{kEmptyLine, 0, kCapturePadding, 0, line_no_, true};
      return true;
    }
    if (nl == nullptr && !eof_) {
      fill();
      if (!error_.empty()) return false;
      continue;
    }
    if (nl == nullptr && avail == 0) return false;  // end of file, nothing left
    const char* line_end = nl != nullptr ? nl : start + avail;  // last line may lack '\n'
    begin_ = static_cast<std::size_t>(line_end - buf_.data()) + (nl != nullptr ? 1 : 0);
    ++line_no_;
    const char* p = start;
    const char* e = line_end;
    if (e > p && e[-1] == '\r') --e;
    if (e == p) continue;  // blank line
    if (static_cast<std::size_t>(e - p) > opt_.max_line_bytes) {
      ++too_long_lines_;
      line = CaptureLine{kEmptyLine, 0, kCapturePadding, 0, line_no_, true};
      return true;
    }
    line.too_long = false;
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

std::string CaptureReader::too_long_message(const CaptureLine& line) const {
  return path_ + ": line " + std::to_string(line.line_no) + " is longer than " +
         std::to_string(opt_.max_line_bytes) + " bytes (skipped)";
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
