// Real-data differential test: the recorded Bybit and Binance samples (../shared/data) are
// decoded by the feed decoders and run through SyncedBook<FlatBook> and SyncedBook<StdMapBook>
// side by side; after every applied message both books must agree on the top 20 levels.
// Also pins the sequencing outcome of each sample: no gaps, and the exact number of messages.
#include <gtest/gtest.h>

#include "tests/support/require.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/symbol_table.h"
#include "feed/capture_decoder.h"
#include "feed/capture_reader.h"
#include "sim/book_sync.h"
#include "sim/flat_book.h"
#include "sim/map_book.h"

namespace shadow {
namespace {

// Collects the published events of every message, in order.
struct VectorSink {
  std::vector<MarketEvent> pending = std::vector<MarketEvent>(4096);
  std::size_t n = 0;
  std::vector<MarketEvent>* out = nullptr;
  MarketEvent* claim() { return n < pending.size() ? &pending[n++] : nullptr; }
  void publish() {
    out->insert(out->end(), pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
    n = 0;
  }
  void abort() { n = 0; }
};
static_assert(EventSink<VectorSink>);

// Decodes every line of `path` through feed's capture driver (decode_capture: `<ns> <json>` or
// plain JSONL, gzip or plain); false if the file cannot be read.
bool DecodeFile(const std::string& path, Protocol protocol, CaptureDecoder& dec,
                std::vector<MarketEvent>& events) {
  VectorSink sink;
  sink.out = &events;
  std::string err;
  return decode_capture(path, protocol, dec, sink, err, [&](const CaptureLine& l, DecodeStatus st) {
    EXPECT_FALSE(is_error(st)) << path << ":" << l.line_no << ": " << to_string(st);
  });
}

std::string DataDir() {
  const char* d = std::getenv("SHADOW_DATA_DIR");
  return d == nullptr ? std::string() : std::string(d);
}

// Decodes the sample at `rel` under SHADOW_DATA_DIR into `events`. Returns what is missing (for
// SHADOW_MISSING, which has to end the test itself), or an empty string.
std::string DecodeSample(const std::string& rel, Protocol protocol, CaptureDecoder& dec,
                         std::vector<MarketEvent>& events) {
  const std::string dir = DataDir();
  if (dir.empty()) return "SHADOW_DATA_DIR not set: no recorded data";
  if (!DecodeFile(dir + "/" + rel, protocol, dec, events)) return "sample absent: " + dir + "/" + rel;
  return {};
}

constexpr const char* kBybitSample = "bybit/xrpusdt_ob500_2024-12-01.jsonl";
constexpr const char* kBinanceSample = "binance/spot_btcusdt_20240808.gz";

struct Outcome {
  std::uint64_t on_applied_calls = 0;
  SyncStats flat_stats, map_stats;
};

// Runs both books over the events; compares the top 20 after every applied message.
Outcome RunSideBySide(const std::vector<MarketEvent>& events, std::uint16_t symbol) {
  constexpr std::size_t kTop = 20;
  auto flat = std::make_unique<SyncedBook<FlatBook>>(SyncConfig{});
  auto ref = std::make_unique<SyncedBook<StdMapBook>>(SyncConfig{});
  Outcome o;
  std::vector<std::uint64_t> flat_ids, ref_ids;
  for (const MarketEvent& e : events) {
    if (e.symbol != symbol) continue;
    flat_ids.clear();
    ref_ids.clear();
    flat->on_event(e, [&](std::uint64_t id) { flat_ids.push_back(id); });
    ref->on_event(e, [&](std::uint64_t id) { ref_ids.push_back(id); });
    EXPECT_EQ(flat_ids, ref_ids);
    o.on_applied_calls += flat_ids.size();
    if (flat_ids.empty()) continue;
    for (const Side s : {Side::kBuy, Side::kSell}) {
      Level a[kTop], b[kTop];
      const std::size_t na = flat->book().top(s, kTop, a), nb = ref->book().top(s, kTop, b);
      EXPECT_EQ(na, nb);
      for (std::size_t i = 0; i < na && i < nb; ++i) {
        if (a[i].px != b[i].px || a[i].qty != b[i].qty) {
          ADD_FAILURE() << "update " << flat_ids.back() << " level " << i << ": flat " << a[i].px
                        << "/" << a[i].qty << " map " << b[i].px << "/" << b[i].qty;
          return o;  // one report is enough
        }
      }
      EXPECT_EQ(flat->book().level_count(s), ref->book().level_count(s));
    }
  }
  o.flat_stats = flat->stats();
  o.map_stats = ref->stats();
  EXPECT_EQ(flat->book().rejected(), 0u);
  return o;
}

TEST(BookRealData, BybitXrpusdtOb500) {
  SymbolTable symbols;
  auto dec = std::make_unique<CaptureDecoder>(symbols);
  std::vector<MarketEvent> events;
  if (const std::string missing = DecodeSample(kBybitSample, Protocol::kBybit, *dec, events);
      !missing.empty()) {
    SHADOW_MISSING(missing);
  }
  const std::uint16_t sym = symbols.find(Venue::kBybit, "XRPUSDT");
  ASSERT_NE(sym, SymbolTable::kInvalid);
  const Outcome o = RunSideBySide(events, sym);
  EXPECT_EQ(o.on_applied_calls, 50u);  // 1 snapshot + 49 deltas
  EXPECT_EQ(o.flat_stats.messages_applied, 50u);
  EXPECT_EQ(o.flat_stats.snapshots, 1u);
  EXPECT_EQ(o.flat_stats.gaps, 0u);
  EXPECT_EQ(o.flat_stats.skipped_unsynced, 0u);
  EXPECT_EQ(o.flat_stats.crossed, 0u);
  EXPECT_EQ(o.map_stats.messages_applied, o.flat_stats.messages_applied);
}

// The benchmark's steady-state Bybit stream: the snapshot, then the 49 deltas replayed with
// their update ids renumbered so that sequencing continues. Both books must still agree.
TEST(BookRealData, BybitDeltasReplayedAfterOneSnapshot) {
  SymbolTable symbols;
  auto dec = std::make_unique<CaptureDecoder>(symbols);
  std::vector<MarketEvent> sample;
  if (const std::string missing = DecodeSample(kBybitSample, Protocol::kBybit, *dec, sample);
      !missing.empty()) {
    SHADOW_MISSING(missing);
  }
  std::vector<MarketEvent> events, deltas;
  for (const MarketEvent& e : sample) {
    if (!e.is_book()) continue;
    (e.kind == EventKind::kBookSnapshot ? events : deltas).push_back(e);
  }
  ASSERT_FALSE(deltas.empty());
  const std::uint64_t span = deltas.back().update_id - deltas.front().update_id + 1;
  constexpr int kRounds = 4;
  for (int r = 0; r < kRounds; ++r) {
    for (MarketEvent e : deltas) {
      e.update_id += static_cast<std::uint64_t>(r) * span;
      events.push_back(e);
    }
  }
  const Outcome o = RunSideBySide(events, symbols.find(Venue::kBybit, "XRPUSDT"));
  EXPECT_EQ(o.on_applied_calls, 1u + kRounds * 49u);
  EXPECT_EQ(o.flat_stats.gaps, 0u);
  EXPECT_EQ(o.flat_stats.crossed, o.map_stats.crossed);
}

TEST(BookRealData, BinanceSpotBtcusdt) {
  SymbolTable symbols;
  auto dec = std::make_unique<CaptureDecoder>(symbols);
  dec->set_binance_snapshot_symbol("BTCUSDT");
  std::vector<MarketEvent> events;
  if (const std::string missing = DecodeSample(kBinanceSample, Protocol::kBinance, *dec, events);
      !missing.empty()) {
    SHADOW_MISSING(missing);
  }
  const std::uint16_t sym = symbols.find(Venue::kBinanceSpot, "BTCUSDT");
  ASSERT_NE(sym, SymbolTable::kInvalid);
  const Outcome o = RunSideBySide(events, sym);
  // 3451 depth messages: 3 arrive before the REST snapshot (lastUpdateId 50093239218); two of
  // them end at or before it (stale), the third bridges (U <= L+1 <= u); 3448 follow it.
  EXPECT_EQ(o.on_applied_calls, 1u + 1u + 3448u);
  EXPECT_EQ(o.flat_stats.messages_applied, 3450u);
  EXPECT_EQ(o.flat_stats.snapshots, 1u);
  EXPECT_EQ(o.flat_stats.stale_dropped, 2u);
  EXPECT_EQ(o.flat_stats.gaps, 0u);
  EXPECT_EQ(o.flat_stats.buffered_dropped, 0u);
  EXPECT_EQ(o.map_stats.messages_applied, o.flat_stats.messages_applied);
  EXPECT_EQ(o.map_stats.crossed, o.flat_stats.crossed);
}

}  // namespace
}  // namespace shadow
