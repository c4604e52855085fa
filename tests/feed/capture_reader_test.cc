// CaptureReader on hostile input (issue 11): a line longer than the limit is skipped in bounded
// memory and reported with its line number; only regular files open (a FIFO without blocking);
// zstd/xz/bzip2/zip are refused by their magic bytes; a truncated or corrupt gzip is a read
// error of kind kBadInput; open_memory() splits exactly like a file; CaptureTally's verdict.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "feed/capture_decoder.h"
#include "feed/capture_reader.h"

namespace shadow {
namespace {

namespace fs = std::filesystem;

class CaptureReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("capture-reader-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }

  fs::path dir_;
};

struct Read {
  std::vector<std::string> text;        // each line's text ("" for a too-long line)
  std::vector<std::size_t> line_no;
  std::vector<bool> too_long;
  std::string error;
  CaptureErrorKind kind = CaptureErrorKind::kNone;
  std::size_t max_buffer = 0;
};

Read read_all(CaptureReader& r) {
  Read out;
  CaptureLine l;
  while (r.next(l)) {
    EXPECT_GE(l.capacity, l.len + kCapturePadding);
    out.text.emplace_back(l.data, l.len);
    out.line_no.push_back(l.line_no);
    out.too_long.push_back(l.too_long);
    out.max_buffer = std::max(out.max_buffer, r.buffer_bytes());
  }
  out.error = r.error();
  out.kind = r.error_kind();
  return out;
}

TEST_F(CaptureReaderTest, LineOverTheLimitIsSkippedInBoundedMemoryAndNamed) {
  // 1 MiB without a newline between two good lines, read with a 4 KiB limit: the old reader
  // grew its buffer to hold the whole line.
  const std::string huge(1 << 20, 'a');
  const std::string path = write("long.jsonl", "1 {\"a\":1}\n" + huge + "\n2 {\"b\":2}\n");
  CaptureReaderOptions o;
  o.max_line_bytes = 4096;
  o.read_chunk = 8192;
  CaptureReader r(o);
  std::string err;
  ASSERT_TRUE(r.open(path, err)) << err;
  std::vector<CaptureLine> lines;
  CaptureLine l;
  std::size_t max_buffer = 0;
  std::vector<std::string> text;
  while (r.next(l)) {
    lines.push_back(l);
    text.emplace_back(l.data, l.len);
    max_buffer = std::max(max_buffer, r.buffer_bytes());
  }
  EXPECT_EQ(r.error(), "");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(text[0], "{\"a\":1}");
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_EQ(lines[1].line_no, 2u);
  EXPECT_EQ(lines[1].len, 0u);
  EXPECT_GE(lines[1].capacity, kCapturePadding);
  EXPECT_EQ(r.too_long_message(lines[1]), path + ": line 2 is longer than 4096 bytes (skipped)");
  EXPECT_EQ(text[2], "{\"b\":2}");
  EXPECT_EQ(lines[2].local_ns, 2);
  EXPECT_EQ(lines[2].line_no, 3u);
  EXPECT_EQ(r.too_long_lines(), 1u);
  EXPECT_LE(max_buffer, 4096u + 2 + 8192 + kCapturePadding);
}

TEST_F(CaptureReaderTest, NewlineFreeFileIsOneTooLongLine) {
  const std::string path = write("nonl.txt", std::string(1 << 20, 'a'));
  CaptureReaderOptions o;
  o.max_line_bytes = 4096;
  CaptureReader r(o);  // default read chunk: still bounded by limit + one chunk
  std::string err;
  ASSERT_TRUE(r.open(path, err)) << err;
  const Read got = read_all(r);
  EXPECT_EQ(got.error, "");
  ASSERT_EQ(got.text.size(), 1u);
  EXPECT_TRUE(got.too_long[0]);
  EXPECT_EQ(got.line_no[0], 1u);
}

TEST_F(CaptureReaderTest, LimitIsOnTheLineWithoutItsEnding) {
  const std::string ok(100, 'x'), over(101, 'y');
  const std::string path = write("edge.jsonl", ok + "\r\n" + over + "\n" + ok + "\n" + over);
  for (std::size_t chunk : {1, 7, 100, 101, 102, 4096}) {
    CaptureReaderOptions o;
    o.max_line_bytes = 100;
    o.read_chunk = chunk;
    CaptureReader r(o);
    std::string err;
    ASSERT_TRUE(r.open(path, err)) << err;
    const Read got = read_all(r);
    EXPECT_EQ(got.error, "");
    EXPECT_EQ(got.text, (std::vector<std::string>{ok, "", ok, ""})) << "chunk " << chunk;
    EXPECT_EQ(got.too_long, (std::vector<bool>{false, true, false, true})) << "chunk " << chunk;
    EXPECT_EQ(got.line_no, (std::vector<std::size_t>{1, 2, 3, 4})) << "chunk " << chunk;
  }
}

TEST_F(CaptureReaderTest, OnlyRegularFilesOpen) {
  CaptureReader dir;
  std::string err;
  EXPECT_FALSE(dir.open(dir_.string(), err));
  EXPECT_EQ(err, dir_.string() + ": is a directory, not a regular file (only regular files are read)");
  EXPECT_EQ(dir.error_kind(), CaptureErrorKind::kBadInput);

  CaptureReader zero;
  EXPECT_FALSE(zero.open("/dev/zero", err));
  EXPECT_NE(err.find("/dev/zero: is a character device"), std::string::npos) << err;

  // A FIFO nobody writes to: the old reader blocked in open() for ever.
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto opened = std::async(std::launch::async, [&] {
    CaptureReader r;
    std::string e;
    const bool ok = r.open(fifo, e);
    return std::make_pair(ok, e);
  });
  if (opened.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    // Unblock the reader so the test can end, then fail.
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    opened.wait();
    if (fd >= 0) ::close(fd);
    FAIL() << "open() of a FIFO blocked";
  }
  const auto [ok, e] = opened.get();
  EXPECT_FALSE(ok);
  EXPECT_EQ(e, fifo + ": is a FIFO, not a regular file (only regular files are read)");

  CaptureReader missing;
  EXPECT_FALSE(missing.open((dir_ / "nope.gz").string(), err));
  EXPECT_EQ(err, (dir_ / "nope.gz").string() + ": cannot open: No such file or directory");
}

TEST_F(CaptureReaderTest, OtherCompressionFormatsAreRefusedByMagic) {
  const struct {
    std::string magic, format, command;
  } cases[] = {
      {std::string("\x28\xB5\x2F\xFD\x04\x58", 6), "zstd", "zstd -d"},
      {std::string("\xFD\x37\x7A\x58\x5A\x00\x00", 7), "xz", "xz -d"},
      {"BZh91AY&SY", "bzip2", "bzip2 -d"},
      {std::string("PK\x03\x04\x14\x00", 6), "zip", "unzip"},
  };
  for (const auto& c : cases) {
    const std::string path = write("x." + c.format, c.magic + "rest of the file");
    CaptureReader r;
    std::string err;
    EXPECT_FALSE(r.open(path, err)) << c.format;
    EXPECT_EQ(err, path + ": is " + c.format + "-compressed; decompress it first (" + c.command + ")");
    EXPECT_EQ(r.error_kind(), CaptureErrorKind::kBadInput);
    CaptureReader m;
    EXPECT_FALSE(m.open_memory(c.magic, "mem", err));
    EXPECT_EQ(err, "mem: is " + c.format + "-compressed; decompress it first (" + c.command + ")");
  }
  // Text that merely starts like one is read ("BZ" alone, "PK" then text).
  const std::string path = write("pk.jsonl", "PKx\nBZ\n");
  CaptureReader r;
  std::string err;
  ASSERT_TRUE(r.open(path, err)) << err;
  EXPECT_EQ(read_all(r).text, (std::vector<std::string>{"PKx", "BZ"}));
}

std::string gzip_lines(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    text += std::to_string(1000 + i) + " {\"i\":" + std::to_string(i) + ",\"pad\":\"" +
            std::to_string(i * 7919u % 104729u) + "\"}\n";
  }
  return text;
}

std::string gzip_file(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(CaptureReaderTest, TruncatedGzipIsABadInputError) {
  const std::string full = gzip_file((dir_ / "full.gz").string(), gzip_lines(20000));
  const std::string cut = write("cut.gz", full.substr(0, full.size() / 2));
  CaptureReader r;
  std::string err;
  ASSERT_TRUE(r.open(cut, err)) << err;
  const Read got = read_all(r);
  EXPECT_GT(got.text.size(), 100u);  // what came before the damage
  EXPECT_LT(got.text.size(), 20000u);
  EXPECT_EQ(got.kind, CaptureErrorKind::kBadInput);
  EXPECT_EQ(got.error.rfind(cut + ": read error after line ", 0), 0u) << got.error;
  EXPECT_NE(got.error.find("gzip stream truncated"), std::string::npos) << got.error;

  // Bytes flipped in the middle of the deflate data: corrupt (or, when zlib reads the damage
  // as a short stream, truncated); never a clean end.
  std::string bad = full;
  for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 64; ++i) bad[i] = static_cast<char>(~bad[i]);
  const std::string corrupt = write("corrupt.gz", bad);
  CaptureReader c;
  ASSERT_TRUE(c.open(corrupt, err)) << err;
  const Read got2 = read_all(c);
  EXPECT_EQ(got2.kind, CaptureErrorKind::kBadInput);
  EXPECT_NE(got2.error.find("gzip"), std::string::npos) << got2.error;

  // The intact file reads to its end without an error.
  CaptureReader whole;
  ASSERT_TRUE(whole.open((dir_ / "full.gz").string(), err)) << err;
  const Read all = read_all(whole);
  EXPECT_EQ(all.error, "");
  EXPECT_EQ(all.text.size(), 20000u);
}

TEST_F(CaptureReaderTest, MemoryInputSplitsLikeTheFile) {
  const std::string text = "5 {\"a\":1}\r\n\n" + std::string(300, 'z') + "\n{\"b\":2}\n12 \nx";
  const std::string path = write("mem.jsonl", text);
  CaptureReaderOptions o;
  o.max_line_bytes = 200;
  CaptureReader file(o);
  std::string err;
  ASSERT_TRUE(file.open(path, err)) << err;
  const Read want = read_all(file);
  EXPECT_EQ(want.text, (std::vector<std::string>{"{\"a\":1}", "", "{\"b\":2}", "", "x"}));  // "12 ": a prefix alone
  EXPECT_EQ(want.line_no, (std::vector<std::size_t>{1, 3, 4, 5, 6}));
  for (std::size_t chunk : {1, 2, 3, 5, 64, 1000}) {
    o.read_chunk = chunk;
    CaptureReader mem(o);
    ASSERT_TRUE(mem.open_memory(text, "mem", err)) << err;
    const Read got = read_all(mem);
    EXPECT_EQ(got.text, want.text) << "chunk " << chunk;
    EXPECT_EQ(got.line_no, want.line_no) << "chunk " << chunk;
    EXPECT_EQ(got.too_long, want.too_long) << "chunk " << chunk;
  }
}

TEST(CaptureTallyTest, MostlyUndecodableRule) {
  CaptureTally t;
  EXPECT_TRUE(t.mostly_undecodable());  // no lines at all
  EXPECT_EQ(t.message("f"), "f: input mostly undecodable: the file has no non-blank lines");
  t.count(DecodeStatus::kMalformedJson);
  EXPECT_TRUE(t.mostly_undecodable());  // nothing decoded
  t.count(DecodeStatus::kOk);
  EXPECT_FALSE(t.mostly_undecodable());  // as many decoded as not
  t.count(DecodeStatus::kBadValue);
  EXPECT_TRUE(t.mostly_undecodable());
  EXPECT_EQ(t.message("f"), "f: input mostly undecodable: 1 of 3 lines decoded");
  t.count(DecodeStatus::kSkipped);  // recognised (ack, pong, other topic): decoded
  EXPECT_FALSE(t.mostly_undecodable());
}

TEST(CaptureTallyTest, TooLongLineIsADecodeError) {
  // The decoders see a too-long line as an empty message: an error, counted.
  CaptureReaderOptions o;
  o.max_line_bytes = 16;
  CaptureReader r(o);
  std::string err;
  const std::string text = std::string(40, '{') + "\n";
  ASSERT_TRUE(r.open_memory(text, "m", err)) << err;
  CaptureLine l;
  ASSERT_TRUE(r.next(l));
  ASSERT_TRUE(l.too_long);
  SymbolTable symbols;
  CaptureDecoder dec(symbols);
  struct NullSink {
    MarketEvent e;
    MarketEvent* claim() noexcept { return &e; }
    void publish() noexcept {}
    void abort() noexcept {}
  } sink;
  for (Protocol p : {Protocol::kBybit, Protocol::kBinance}) {
    EXPECT_TRUE(is_error(dec.decode(p, l, sink)));
  }
}

}  // namespace
}  // namespace shadow
