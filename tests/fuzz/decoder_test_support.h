// Support shared by the decoder tests, fuzz replayers and decoder_benchmark: simple
// EventSinks and a loader that reads a sample or capture file (plain or .gz) into one padded
// buffer with a span per message, ready for the decoders' (data, len, capacity) contract.
//
// Cold-path code: it allocates freely. Not used by the feed library itself.
#pragma once

#include <simdjson.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sim/event_sink.h"
#include "sim/market_event.h"

namespace shadow::testing {

// Keeps every published event; claim() hands out slots from a fixed pending area so pointers
// stay valid until publish/abort, as a ring would.
class VectorSink {
 public:
  explicit VectorSink(std::size_t max_pending = 1024) : pending_(max_pending) {}
  MarketEvent* claim() noexcept {
    if (n_pending_ == pending_.size()) return nullptr;
    return &pending_[n_pending_++];
  }
  void publish() {
    events.insert(events.end(), pending_.begin(),
                  pending_.begin() + static_cast<std::ptrdiff_t>(n_pending_));
    n_pending_ = 0;
    ++publishes;
  }
  void abort() noexcept {
    n_pending_ = 0;
    ++aborts;
  }
  std::size_t pending() const noexcept { return n_pending_; }

  std::vector<MarketEvent> events;
  std::size_t publishes = 0;
  std::size_t aborts = 0;

 private:
  std::vector<MarketEvent> pending_;
  std::size_t n_pending_ = 0;
};

// Writes every event into a small reusable area and counts; never allocates.
class CountingSink {
 public:
  MarketEvent* claim() noexcept {
    if (n_pending_ == kSlots) return nullptr;
    return &slots_[n_pending_++];
  }
  void publish() noexcept {
    published += n_pending_;
    for (std::size_t i = 0; i < n_pending_; ++i) checksum += slots_[i].update_id + slots_[i].seq;
    n_pending_ = 0;
  }
  void abort() noexcept { n_pending_ = 0; }
  const MarketEvent& slot(std::size_t i) const noexcept { return slots_[i]; }

  std::uint64_t published = 0;
  std::uint64_t checksum = 0;

 private:
  static constexpr std::size_t kSlots = 1024;
  MarketEvent slots_[kSlots];
  std::size_t n_pending_ = 0;
};
static_assert(EventSink<VectorSink> && EventSink<CountingSink>);

// One message of a loaded file: text at `data`, `len` bytes, readable (padded) up to
// `capacity` bytes, with the capture's `<local_ns> ` prefix removed (local_ns = 0 if none).
struct Message {
  const char* data;
  std::size_t len;
  std::size_t capacity;
  std::int64_t local_ns;
  std::string_view text() const noexcept { return {data, len}; }
};

// A whole file in one buffer with SIMDJSON_PADDING bytes after its end.
struct LoadedFile {
  std::vector<char> buffer;
  std::vector<Message> messages;
  std::size_t bytes = 0;  // sum of message lengths
  bool ok = false;
};

inline bool read_all(const std::string& path, std::string& out) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    char chunk[1 << 16];
    int n;
    while ((n = gzread(f, chunk, sizeof chunk)) > 0) out.append(chunk, static_cast<std::size_t>(n));
    const bool ok = n == 0;
    gzclose(f);
    return ok;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// Splits into lines; strips a leading `<digits> ` prefix into local_ns; skips empty lines.
inline LoadedFile load_lines(const std::string& path) {
  LoadedFile f;
  std::string text;
  if (!read_all(path, text)) return f;
  f.buffer.assign(text.size() + simdjson::SIMDJSON_PADDING, '\0');
  std::memcpy(f.buffer.data(), text.data(), text.size());
  const char* base = f.buffer.data();
  const std::size_t total = f.buffer.size();
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::size_t start = pos;
    std::int64_t local_ns = 0;
    std::size_t d = start;
    while (d < end && text[d] >= '0' && text[d] <= '9') ++d;
    if (d > start && d < end && text[d] == ' ') {
      for (std::size_t i = start; i < d; ++i) local_ns = local_ns * 10 + (text[i] - '0');
      start = d + 1;
    }
    std::size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    if (stop > start) {
      f.messages.push_back({base + start, stop - start, total - start, local_ns});
      f.bytes += stop - start;
    }
    pos = end + 1;
  }
  f.ok = true;
  return f;
}

// $SHADOW_DATA_DIR/<rel>, or "" when the variable is unset.
inline std::string data_path(const char* rel) {
  const char* dir = std::getenv("SHADOW_DATA_DIR");
  if (dir == nullptr || *dir == '\0') return {};
  return std::string(dir) + "/" + rel;
}

inline constexpr const char* kBybitSample = "bybit/xrpusdt_ob500_2024-12-01.jsonl";
inline constexpr const char* kBinanceSample = "binance/spot_btcusdt_20240808.gz";

}  // namespace shadow::testing
