// FlatBook vs StdMapBook (std::map) vs BtreeBook (absl::btree_map) on the same update streams,
// in one run:
//   Synthetic/<book>    a realistic random walk: most updates within +-50 ticks of the best,
//                       deletes at the top, occasional far levels, bursts; crossing levels are
//                       removed as the mid moves, as an exchange would.
//   BinanceSpot/<book>  the recorded BTCUSDT depth@100ms stream + REST snapshot (346 s),
//   Bybit/<book>        the recorded XRPUSDT orderbook.500 snapshot + 49 deltas, as recorded,
//   BybitDeltas/<book>  the same snapshot, then its 49 deltas replayed 20 times (steady
//                       state; see BybitDeltaEvents()),
//                       all decoded by the feed decoders in setup and replayed through
//                       SyncedBook<book> (sequencing included).
// Every benchmark queries best bid and best ask after each message, as the engine does.
// items_per_second counts level updates; t_update is the time per level update.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/symbol_table.h"
#include "feed/capture_decoder.h"
#include "sim/book_sync.h"
#include "sim/flat_book.h"
#include "sim/map_book.h"

namespace shadow {
namespace {

// --- Synthetic stream ---------------------------------------------------------------------

struct Update {
  Side side;
  Fixed px;
  Fixed qty;
};

struct Stream {
  std::vector<Update> updates;
  std::vector<std::uint32_t> msg_end;  // one past the last update of each message
};

const Stream& SyntheticStream() {
  static const Stream s = [] {
    Stream out;
    constexpr Fixed kTick = kFixedScale / 100;  // 0.01: BTCUSDT-like
    std::mt19937_64 rng(42);
    StdMapBook ref;  // tracks the book so the generator can delete at the top / crossed levels
    std::int64_t mid = 6'000'000;  // 60000.00
    auto emit = [&](Side side, Fixed px, Fixed q) {
      out.updates.push_back({side, px, q});
      ref.set(side, px, q);
    };
    auto qty = [&] { return static_cast<Fixed>(1'000 + rng() % 500'000'000); };
    for (int i = 0; i < 400; ++i) {  // initial book
      emit(Side::kBuy, (mid - 1 - i) * kTick, qty());
      emit(Side::kSell, (mid + 1 + i) * kTick, qty());
    }
    out.msg_end.push_back(static_cast<std::uint32_t>(out.updates.size()));
    std::geometric_distribution<int> near(0.1);  // mean ~10 ticks, ~99.5% within 50
    while (out.updates.size() < 1'000'000) {
      const std::uint64_t r = rng() % 1000;
      mid += static_cast<std::int64_t>(rng() % 5) - 2;
      if (r < 10) mid += static_cast<std::int64_t>(rng() % 101) - 50;  // burst
      while (!ref.empty(Side::kBuy) && ref.best_bid().px >= mid * kTick) {
        emit(Side::kBuy, ref.best_bid().px, 0);
      }
      while (!ref.empty(Side::kSell) && ref.best_ask().px <= mid * kTick) {
        emit(Side::kSell, ref.best_ask().px, 0);
      }
      const int n = r < 10 ? 30 + static_cast<int>(rng() % 60) : 1 + static_cast<int>(rng() % 10);
      for (int i = 0; i < n; ++i) {
        const Side side = (rng() & 1) ? Side::kBuy : Side::kSell;
        const std::uint64_t k = rng() % 100;
        if (k < 8 && !ref.empty(side)) {
          emit(side, ref.best(side).px, 0);  // delete at the top
          continue;
        }
        std::int64_t d = near(rng);
        if (k < 9) d = 1'000 + static_cast<std::int64_t>(rng() % 20'000);  // far level
        const Fixed px = (side == Side::kBuy ? mid - 1 - d : mid + 1 + d) * kTick;
        emit(side, px, k < 35 ? 0 : qty());  // about a third are deletes
      }
      out.msg_end.push_back(static_cast<std::uint32_t>(out.updates.size()));
    }
    return out;
  }();
  return s;
}

template <class Book>
void Synthetic(benchmark::State& state) {
  const Stream& s = SyntheticStream();
  auto book = std::make_unique<Book>();
  for (auto _ : state) {
    book->clear();
    const Update* u = s.updates.data();
    std::uint32_t i = 0;
    for (const std::uint32_t end : s.msg_end) {
      for (; i < end; ++i) book->set(u[i].side, u[i].px, u[i].qty);
      benchmark::DoNotOptimize(book->best_bid());
      benchmark::DoNotOptimize(book->best_ask());
    }
  }
  const auto n = static_cast<std::int64_t>(s.updates.size());
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["t_update"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                  benchmark::Counter::kInvert);
  state.counters["levels"] = static_cast<double>(book->level_count(Side::kBuy) +
                                                 book->level_count(Side::kSell));
}

// --- Recorded data --------------------------------------------------------------------------

// Decodes every line of a capture file through feed's capture driver (decode_capture:
// `<ns> <json>` or plain JSONL, gzip or plain) and returns the book events of `symbol`; empty
// if the file is absent.
std::vector<MarketEvent> DecodeFile(const std::string& path, Protocol protocol, Venue venue,
                                    const char* symbol, const char* snapshot_symbol = "") {
  std::vector<MarketEvent> events;
  struct Sink {
    std::vector<MarketEvent> pending = std::vector<MarketEvent>(4096);
    std::size_t n = 0;
    std::vector<MarketEvent>* out;
    MarketEvent* claim() { return n < pending.size() ? &pending[n++] : nullptr; }
    void publish() {
      for (std::size_t i = 0; i < n; ++i) {
        if (pending[i].is_book()) out->push_back(pending[i]);
      }
      n = 0;
    }
    void abort() { n = 0; }
  } sink{.out = &events};
  SymbolTable symbols;
  auto dec = std::make_unique<CaptureDecoder>(symbols);
  dec->set_binance_snapshot_symbol(snapshot_symbol);
  std::string err;
  decode_capture(path, protocol, *dec, sink, err, [](const CaptureLine&, DecodeStatus) {});
  const std::uint16_t id = symbols.find(venue, symbol);
  std::erase_if(events, [&](const MarketEvent& e) { return e.symbol != id; });
  return events;
}

const std::vector<MarketEvent>& BinanceEvents() {
  static const std::vector<MarketEvent> ev =
      DecodeFile(std::string(SHADOW_DATA_DIR) + "/binance/spot_btcusdt_20240808.gz",
                 Protocol::kBinance, Venue::kBinanceSpot, "BTCUSDT", "BTCUSDT");
  return ev;
}

// The Bybit sample as recorded: one 1000-level snapshot and 49 deltas (5 s), so a quarter of
// its updates are the sorted snapshot and every 4 k updates the book is reset.
const std::vector<MarketEvent>& BybitEvents() {
  static const std::vector<MarketEvent> ev =
      DecodeFile(std::string(SHADOW_DATA_DIR) + "/bybit/xrpusdt_ob500_2024-12-01.jsonl",
                 Protocol::kBybit, Venue::kBybit, "XRPUSDT");
  return ev;
}

// Bybit in steady state. Bybit sends a snapshot on subscribe and then deltas for as long as
// the connection lives, so what a live book spends its time on is deltas: the snapshot, then
// the sample's 49 deltas replayed kBybitRounds times with their update ids renumbered so that
// sequencing continues (u == previous u + 1). Deltas carry absolute quantities, so each round
// re-inserts, re-changes and re-deletes the levels the sample does.
constexpr int kBybitRounds = 20;

const std::vector<MarketEvent>& BybitDeltaEvents() {
  static const std::vector<MarketEvent> ev = [] {
    std::vector<MarketEvent> out;
    std::vector<MarketEvent> deltas;
    for (const MarketEvent& e : BybitEvents()) {
      (e.kind == EventKind::kBookSnapshot ? out : deltas).push_back(e);
    }
    if (out.empty() || deltas.empty()) return std::vector<MarketEvent>{};
    const std::uint64_t span = deltas.back().update_id - deltas.front().update_id + 1;
    for (int r = 0; r < kBybitRounds; ++r) {
      for (MarketEvent e : deltas) {
        e.update_id += static_cast<std::uint64_t>(r) * span;
        out.push_back(e);
      }
    }
    return out;
  }();
  return ev;
}

template <class Book>
void Replay(benchmark::State& state, const std::vector<MarketEvent>& events) {
  if (events.empty()) {
    state.SkipWithError("recorded data not found under SHADOW_DATA_DIR");
    return;
  }
  std::int64_t levels = 0;
  for (const MarketEvent& e : events) levels += e.n_bids + e.n_asks;
  auto sb = std::make_unique<SyncedBook<Book>>(SyncConfig{});
  std::uint64_t applied = 0;
  for (auto _ : state) {
    sb->reset();
    for (const MarketEvent& e : events) {
      sb->on_event(e, [&](std::uint64_t) {
        benchmark::DoNotOptimize(sb->book().best_bid());
        benchmark::DoNotOptimize(sb->book().best_ask());
        ++applied;
      });
    }
  }
  if (sb->stats().gaps != 0) state.SkipWithError("sequence gap in recorded data");
  state.SetItemsProcessed(state.iterations() * levels);
  state.counters["t_update"] = benchmark::Counter(
      static_cast<double>(levels),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["messages"] = static_cast<double>(applied) / static_cast<double>(state.iterations());
}

template <class Book>
void BinanceSpot(benchmark::State& state) {
  Replay<Book>(state, BinanceEvents());
}
template <class Book>
void Bybit(benchmark::State& state) {
  Replay<Book>(state, BybitEvents());
}
template <class Book>
void BybitDeltas(benchmark::State& state) {
  Replay<Book>(state, BybitDeltaEvents());
}

BENCHMARK_TEMPLATE(Synthetic, FlatBook)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(Synthetic, StdMapBook)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(Synthetic, BtreeBook)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BinanceSpot, FlatBook)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BinanceSpot, StdMapBook)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BinanceSpot, BtreeBook)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(Bybit, FlatBook)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(Bybit, StdMapBook)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(Bybit, BtreeBook)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BybitDeltas, FlatBook)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BybitDeltas, StdMapBook)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BybitDeltas, BtreeBook)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace shadow

BENCHMARK_MAIN();
