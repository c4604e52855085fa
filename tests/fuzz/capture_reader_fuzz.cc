// libFuzzer target: arbitrary bytes through CaptureReader's line splitting (open_memory(), the
// same fill/split/skip code a file goes through). Built with -fsanitize=fuzzer when
// SHADOW_BUILD_FUZZERS=ON, else linked with replay_main.cc as capture_reader_fuzz_replay over
// tests/fuzz/corpus/capture_reader/ (files there are whole inputs: no .jsonl/.gz/.capture names).
//
// Input: byte 0 picks the read chunk (1..64, or 4096 with bit 6) and preload (bit 7), byte 1 the
// line limit (1..256), the rest is the capture text. Checks, for every line handed out: the view
// lies in readable memory with the padding after it (ASan checks the whole capacity), len <=
// limit, capacity >= len + kCapturePadding, line numbers increase; and differentially, the lines
// equal those of a plain reference splitter over the whole text (any chunking, with or without
// preload, must not change a line, its number, its prefix or its too-long verdict).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "feed/capture_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

struct Line {
  std::string text;
  std::int64_t local_ns = 0;
  std::size_t line_no = 0;
  bool too_long = false;
  bool operator==(const Line&) const = default;
};

// DESIGN.md "Capture files", written as plainly as possible.
std::vector<Line> reference(std::string_view text, std::size_t max_line) {
  std::vector<Line> out;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (raw.empty()) continue;
    Line l;
    l.line_no = line_no;
    if (raw.size() > max_line) {
      l.too_long = true;
      out.push_back(l);
      continue;
    }
    std::size_t digits = 0;
    std::uint64_t v = 0;
    while (digits < raw.size() && digits < 19 && raw[digits] >= '0' && raw[digits] <= '9') {
      v = v * 10 + static_cast<unsigned>(raw[digits] - '0');
      ++digits;
    }
    if (digits > 0 && digits < raw.size() && raw[digits] == ' ') {
      l.local_ns = static_cast<std::int64_t>(v);
      raw.remove_prefix(digits + 1);
    }
    l.text = std::string(raw);
    out.push_back(l);
  }
  return out;
}

bool refused_magic(std::string_view t) {
  const auto starts = [&](std::string_view m) { return t.substr(0, m.size()) == m; };
  return starts(std::string_view("\x28\xB5\x2F\xFD", 4)) || starts(std::string_view("\xFD\x37\x7A\x58\x5A\x00", 6)) ||
         starts("BZh") || starts(std::string_view("PK\x03\x04", 4)) || starts("\x1F\x8B");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  shadow::CaptureReaderOptions opt;
  opt.read_chunk = (data[0] & 0x40) != 0 ? 4096 : 1 + (data[0] & 0x3F);
  opt.max_line_bytes = 1 + data[1];
  const bool preload = (data[0] & 0x80) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  shadow::CaptureReader reader(opt);
  std::string error;
  const bool opened = reader.open_memory(text, "fuzz", error);
  SHADOW_FUZZ_CHECK(opened == !refused_magic(text));
  if (!opened) {
    SHADOW_FUZZ_CHECK(!error.empty());
    return 0;
  }
  if (preload) SHADOW_FUZZ_CHECK(reader.preload(error));

  std::vector<Line> got;
  shadow::CaptureLine line;
  std::size_t last_no = 0;
  while (reader.next(line)) {
    SHADOW_FUZZ_CHECK(line.data != nullptr);
    SHADOW_FUZZ_CHECK(line.len <= opt.max_line_bytes);
    SHADOW_FUZZ_CHECK(line.capacity >= line.len + shadow::kCapturePadding);
    SHADOW_FUZZ_CHECK(line.line_no > last_no);
    if (line.too_long) SHADOW_FUZZ_CHECK(line.len == 0);
    // The promised bytes are readable (ASan): the text, the padding right after it, and the
    // last byte of the capacity (the view lies in one allocation, so that bounds the rest).
    volatile unsigned sum = 0;
    for (std::size_t i = 0; i < line.len + shadow::kCapturePadding; ++i) sum = sum + static_cast<unsigned char>(line.data[i]);
    sum = sum + static_cast<unsigned char>(line.data[line.capacity - 1]);
    (void)sum;
    if (!preload) SHADOW_FUZZ_CHECK(reader.buffer_bytes() <= opt.max_line_bytes + 2 + opt.read_chunk + shadow::kCapturePadding);
    last_no = line.line_no;
    got.push_back(Line{std::string(line.data, line.len), line.local_ns, line.line_no, line.too_long});
  }
  SHADOW_FUZZ_CHECK(reader.error().empty());
  SHADOW_FUZZ_CHECK(reader.bytes_read() == text.size());
  SHADOW_FUZZ_CHECK(got == reference(text, opt.max_line_bytes));
  std::size_t too_long = 0;
  for (const Line& l : got) too_long += l.too_long ? 1 : 0;
  SHADOW_FUZZ_CHECK(reader.too_long_lines() == too_long);
  return 0;
}
