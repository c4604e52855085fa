// decoder_benchmark: raw exchange JSON -> MarketEvents, shadow's simdjson On-Demand decoders
// side by side with RapidJSON and nlohmann::json decoders, in one run.
//
// Every decoder turns the SAME real messages (both recorded samples, loaded once into padded
// memory by CaptureReader) into the SAME MarketEvents: same field lookups by name, the same
// exact Fixed value of every decimal string, same event packing (feed_internal::EventWriter)
// into the same counting sink. The peers call parse_fixed on the strings their DOM holds;
// shadow reads them in place from the padded input with parse_fixed_padded's multiply-shift
// (same results, same refusals: fixed_point_test), which is part of what zero-copy buys it.
// main() checks that the peers' events equal shadow's before timing anything, so the
// comparison is honest. Reported: items/s (messages), bytes/s, and time_per_msg.
//
//   decoder_benchmark --benchmark_min_time=0.1
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <rapidjson/document.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feed/binance_decoder.h"
#include "feed/bybit_decoder.h"
#include "tests/fuzz/decoder_test_support.h"

namespace shadow {
namespace {

using feed_internal::EventWriter;
using feed_internal::MessageHeader;

// --- DOM adapters: the peers' venue logic is written once over these -----------------------

class RapidDom {
 public:
  using Value = rapidjson::Value;
  RapidDom()
      : vbuf_(new char[kBuf]), sbuf_(new char[kStack]), valloc_(vbuf_.get(), kBuf),
        salloc_(sbuf_.get(), kStack), doc_(&valloc_, 1024, &salloc_) {}

  const Value* parse(const char* data, std::size_t len) {
    valloc_.Clear();  // reuse the fixed buffer: no heap traffic per message
    doc_.Parse(data, len);
    return doc_.HasParseError() ? nullptr : &doc_;
  }
  static bool is_object(const Value& v) { return v.IsObject(); }
  static const Value* find(const Value& obj, const char* key) {
    auto it = obj.FindMember(key);
    return it == obj.MemberEnd() ? nullptr : &it->value;
  }
  static bool str(const Value& v, std::string_view& out) {
    if (!v.IsString()) return false;
    out = {v.GetString(), v.GetStringLength()};
    return true;
  }
  static bool u64(const Value& v, std::uint64_t& out) {
    if (!v.IsUint64()) return false;
    out = v.GetUint64();
    return true;
  }
  static bool i64(const Value& v, std::int64_t& out) {
    if (!v.IsInt64()) return false;
    out = v.GetInt64();
    return true;
  }
  static bool boolean(const Value& v, bool& out) {
    if (!v.IsBool()) return false;
    out = v.GetBool();
    return true;
  }
  static bool is_array(const Value& v) { return v.IsArray(); }
  static std::size_t size(const Value& v) { return v.Size(); }
  static const Value& at(const Value& v, std::size_t i) { return v[static_cast<rapidjson::SizeType>(i)]; }

 private:
  using Doc = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                         rapidjson::MemoryPoolAllocator<>>;
  static constexpr std::size_t kBuf = 8 << 20;
  static constexpr std::size_t kStack = 1 << 20;
  std::unique_ptr<char[]> vbuf_, sbuf_;
  rapidjson::MemoryPoolAllocator<> valloc_, salloc_;
  Doc doc_;
};

class NlohmannDom {
 public:
  using Value = nlohmann::json;
  const Value* parse(const char* data, std::size_t len) {
    doc_ = nlohmann::json::parse(data, data + len, nullptr, /*allow_exceptions=*/false);
    return doc_.is_discarded() ? nullptr : &doc_;
  }
  static bool is_object(const Value& v) { return v.is_object(); }
  static const Value* find(const Value& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }
  static bool str(const Value& v, std::string_view& out) {
    if (!v.is_string()) return false;
    out = v.get_ref<const std::string&>();
    return true;
  }
  static bool u64(const Value& v, std::uint64_t& out) {
    if (!v.is_number_unsigned()) return false;
    out = v.get<std::uint64_t>();
    return true;
  }
  static bool i64(const Value& v, std::int64_t& out) {
    if (!v.is_number_integer()) return false;
    out = v.get<std::int64_t>();
    return true;
  }
  static bool boolean(const Value& v, bool& out) {
    if (!v.is_boolean()) return false;
    out = v.get<bool>();
    return true;
  }
  static bool is_array(const Value& v) { return v.is_array(); }
  static std::size_t size(const Value& v) { return v.size(); }
  static const Value& at(const Value& v, std::size_t i) { return v[i]; }

 private:
  nlohmann::json doc_;
};

// --- Peer decoders: the same mapping as feed/, over a DOM --------------------------------

// What every peer shares: the message frame of feed/'s decoders (header, parse, abort on error,
// stamp, publish), the DOM parse and the field helpers. Derived supplies parse(root object,
// writer, header) and kTradesShareHeader (true: a trade message's events share the header's
// timestamps through stamp_shared, as BybitDecoder does; false: stamp_all for every kind).
template <class Dom, class Derived>
class PeerDecoderBase {
 public:
  explicit PeerDecoderBase(SymbolTable& symbols) : symbols_(symbols) {}

  template <EventSink S>
  DecodeStatus decode(const char* data, std::size_t len, std::size_t, std::int64_t local_ns,
                      std::int64_t mono_ns, S& sink) {
    EventWriter<S> w(sink, slots_, level_shape_);
    MessageHeader h;
    h.local_ns = local_ns;
    h.recv_mono_ns = mono_ns;
    h.msg_seq = ++msg_seq_;
    const DecodeStatus st = parse_root(data, len, w, h);
    if (st != DecodeStatus::kOk) {
      w.abort();
      return st;
    }
    if (w.size() == 0) return DecodeStatus::kSkipped;
    if (Derived::kTradesShareHeader && h.kind == EventKind::kTrade) {
      w.stamp_shared(h);
    } else {
      w.stamp_all(h);
    }
    w.publish();
    return DecodeStatus::kOk;
  }

 protected:
  using V = typename Dom::Value;

  template <EventSink S>
  DecodeStatus parse_root(const char* data, std::size_t len, EventWriter<S>& w, MessageHeader& h) {
    const V* root = dom_.parse(data, len);
    if (root == nullptr) return DecodeStatus::kMalformedJson;
    if (!Dom::is_object(*root)) return DecodeStatus::kUnknownMessage;
    return static_cast<Derived*>(this)->parse(root, w, h);
  }

  bool fixed(const V* v, Fixed& out) {
    std::string_view s;
    return v != nullptr && Dom::str(*v, s) && parse_fixed(s, out);
  }
  template <EventSink S>
  DecodeStatus levels(const V* arr, bool bid, EventWriter<S>& w) {
    if (arr == nullptr) return DecodeStatus::kMissingField;
    if (!Dom::is_array(*arr)) return DecodeStatus::kBadValue;
    const std::size_t n = Dom::size(*arr);
    for (std::size_t i = 0; i < n; ++i) {
      const V& l = Dom::at(*arr, i);
      if (!Dom::is_array(l) || Dom::size(l) != 2) return DecodeStatus::kBadValue;
      Fixed px, qty;
      if (!fixed(&Dom::at(l, 0), px) || !fixed(&Dom::at(l, 1), qty)) return DecodeStatus::kBadValue;
      if (!w.add_level(bid, px, qty)) return DecodeStatus::kSinkFull;
    }
    return DecodeStatus::kOk;
  }
  DecodeStatus symbol(Venue venue, const V* v, std::uint16_t& id) {
    std::string_view s;
    if (v == nullptr) return DecodeStatus::kMissingField;
    if (!Dom::str(*v, s) || s.empty()) return DecodeStatus::kBadValue;
    id = symbols_.find_or_add(venue, s);
    return id == SymbolTable::kInvalid ? DecodeStatus::kSymbolTableFull : DecodeStatus::kOk;
  }

  Dom dom_;
  SymbolTable& symbols_;
  std::uint64_t msg_seq_ = 0;
  MarketEvent* slots_[feed_internal::kMaxEventsPerMessage];
  // Unused: the peers read no levels with it.
  feed_internal::PairShape<feed_internal::LevelFrame> level_shape_{5, 8, 1, 8};
};

template <class Dom>
class PeerBybit : public PeerDecoderBase<Dom, PeerBybit<Dom>> {
  using V = typename Dom::Value;

 public:
  using PeerDecoderBase<Dom, PeerBybit<Dom>>::PeerDecoderBase;
  static constexpr bool kTradesShareHeader = true;

  // Called by decode().
  template <EventSink S>
  DecodeStatus parse(const V* root, EventWriter<S>& w, MessageHeader& h) {
    h.venue = Venue::kBybit;
    std::string_view topic, type;
    const V* t = Dom::find(*root, "topic");
    if (t == nullptr) return DecodeStatus::kSkipped;  // acks, pongs
    if (!Dom::str(*t, topic)) return DecodeStatus::kBadValue;
    const bool book = topic.starts_with("orderbook.");
    if (!book && !topic.starts_with("publicTrade.")) return DecodeStatus::kOk;
    const V* ts = Dom::find(*root, "ts");
    const V* d = Dom::find(*root, "data");
    if (ts == nullptr || d == nullptr) return DecodeStatus::kMissingField;
    if (!Dom::i64(*ts, h.exch_ts_ms)) return DecodeStatus::kBadValue;
    if (const V* cts = Dom::find(*root, "cts"); cts != nullptr && !Dom::i64(*cts, h.txn_ts_ms)) {
      return DecodeStatus::kBadValue;
    }
    if (book) {
      const V* ty = Dom::find(*root, "type");
      if (ty == nullptr) return DecodeStatus::kMissingField;
      if (!Dom::str(*ty, type) || !Dom::is_object(*d)) return DecodeStatus::kBadValue;
      if (auto st = this->levels(Dom::find(*d, "b"), true, w); st != DecodeStatus::kOk) return st;
      if (auto st = this->levels(Dom::find(*d, "a"), false, w); st != DecodeStatus::kOk) return st;
      const V* u = Dom::find(*d, "u");
      if (u == nullptr) return DecodeStatus::kMissingField;
      if (!Dom::u64(*u, h.update_id)) return DecodeStatus::kBadValue;
      h.first_update_id = h.update_id;
      if (const V* seq = Dom::find(*d, "seq"); seq != nullptr && !Dom::u64(*seq, h.seq)) {
        return DecodeStatus::kBadValue;
      }
      if (auto st = this->symbol(Venue::kBybit, Dom::find(*d, "s"), h.symbol); st != DecodeStatus::kOk) {
        return st;
      }
      if (type == "snapshot" || h.update_id == 1) {
        h.kind = EventKind::kBookSnapshot;
      } else if (type == "delta") {
        h.kind = EventKind::kBookDelta;
      } else {
        return DecodeStatus::kBadValue;
      }
      if (w.size() == 0 && w.add() == nullptr) return DecodeStatus::kSinkFull;
      return DecodeStatus::kOk;
    }
    if (!Dom::is_array(*d)) return DecodeStatus::kBadValue;
    h.kind = EventKind::kTrade;
    for (std::size_t i = 0; i < Dom::size(*d); ++i) {
      const V& tr = Dom::at(*d, i);
      if (!Dom::is_object(tr)) return DecodeStatus::kBadValue;
      MarketEvent* e = w.add();
      if (e == nullptr) return DecodeStatus::kSinkFull;
      TradeData td{};
      if (!this->fixed(Dom::find(tr, "p"), td.px) || !this->fixed(Dom::find(tr, "v"), td.qty)) {
        return DecodeStatus::kBadValue;
      }
      std::string_view side, id;
      const V* sv = Dom::find(tr, "S");
      if (sv == nullptr || !Dom::str(*sv, side)) return DecodeStatus::kBadValue;
      td.aggressor = side == "Buy" ? Side::kBuy : side == "Sell" ? Side::kSell : Side::kNone;
      if (td.aggressor == Side::kNone) return DecodeStatus::kBadValue;
      const V* tt = Dom::find(tr, "T");
      if (tt == nullptr || !Dom::i64(*tt, e->txn_ts_ms)) return DecodeStatus::kBadValue;
      if (const V* iv = Dom::find(tr, "i"); iv != nullptr && Dom::str(*iv, id)) {
        if (!feed_internal::numeric_id(id, td.trade_id)) td.trade_id = 0;
      }
      if (const V* seq = Dom::find(tr, "seq"); seq != nullptr && !Dom::u64(*seq, e->seq)) {
        return DecodeStatus::kBadValue;
      }
      if (auto st = this->symbol(Venue::kBybit, Dom::find(tr, "s"), e->symbol); st != DecodeStatus::kOk) {
        return st;
      }
      e->trade = td;
    }
    return DecodeStatus::kOk;
  }
};

template <class Dom>
class PeerBinance : public PeerDecoderBase<Dom, PeerBinance<Dom>> {
  using V = typename Dom::Value;

 public:
  using PeerDecoderBase<Dom, PeerBinance<Dom>>::PeerDecoderBase;
  static constexpr bool kTradesShareHeader = false;

  // Called by decode().
  template <EventSink S>
  DecodeStatus parse(const V* root, EventWriter<S>& w, MessageHeader& h) {
    const V* p = root;
    if (const V* d = Dom::find(*root, "data"); d != nullptr) {
      if (!Dom::is_object(*d)) return DecodeStatus::kOk;
      p = d;
    }
    auto opt_i64 = [&](const char* k, std::int64_t& out) {
      const V* v = Dom::find(*p, k);
      return v == nullptr || Dom::i64(*v, out);
    };
    if (!opt_i64("E", h.exch_ts_ms) || !opt_i64("T", h.txn_ts_ms)) return DecodeStatus::kBadValue;
    if (const V* lu = Dom::find(*p, "lastUpdateId"); lu != nullptr) {
      if (!Dom::u64(*lu, h.update_id)) return DecodeStatus::kBadValue;
      h.first_update_id = h.update_id;
      if (Dom::find(*p, "E") != nullptr || Dom::find(*p, "T") != nullptr) futures_ = true;
      h.venue = futures_ ? Venue::kBinanceFutures : Venue::kBinanceSpot;
      if (last_depth_ == SymbolTable::kInvalid) return DecodeStatus::kMissingField;
      h.symbol = this->symbols_.find_or_add(h.venue, this->symbols_.name(last_depth_));
      h.kind = EventKind::kBookSnapshot;
      if (auto st = this->levels(Dom::find(*p, "bids"), true, w); st != DecodeStatus::kOk) return st;
      if (auto st = this->levels(Dom::find(*p, "asks"), false, w); st != DecodeStatus::kOk) return st;
      if (w.size() == 0 && w.add() == nullptr) return DecodeStatus::kSinkFull;
      return DecodeStatus::kOk;
    }
    std::string_view e;
    const V* ev = Dom::find(*p, "e");
    if (ev != nullptr && !Dom::str(*ev, e)) return DecodeStatus::kBadValue;
    if (e == "depthUpdate") {
      const V* pu = Dom::find(*p, "pu");
      h.venue = Venue::kBinanceSpot;
      if (pu != nullptr) {
        if (!Dom::u64(*pu, h.prev_update_id)) return DecodeStatus::kBadValue;
        futures_ = true;
        h.venue = Venue::kBinanceFutures;
        h.flags = kHasPrevUpdateId;
      }
      const V* fu = Dom::find(*p, "U");
      const V* u = Dom::find(*p, "u");
      if (fu == nullptr || u == nullptr) return DecodeStatus::kMissingField;
      if (!Dom::u64(*fu, h.first_update_id) || !Dom::u64(*u, h.update_id)) return DecodeStatus::kBadValue;
      if (auto st = this->symbol(h.venue, Dom::find(*p, "s"), h.symbol); st != DecodeStatus::kOk) return st;
      last_depth_ = h.symbol;
      h.kind = EventKind::kBookDelta;
      if (auto st = this->levels(Dom::find(*p, "b"), true, w); st != DecodeStatus::kOk) return st;
      if (auto st = this->levels(Dom::find(*p, "a"), false, w); st != DecodeStatus::kOk) return st;
      if (w.size() == 0 && w.add() == nullptr) return DecodeStatus::kSinkFull;
      return DecodeStatus::kOk;
    }
    if (e == "trade" || e == "aggTrade") {
      h.venue = futures_ ? Venue::kBinanceFutures : Venue::kBinanceSpot;
      const V* id = Dom::find(*p, e == "trade" ? "t" : "a");
      const V* m = Dom::find(*p, "m");
      bool buyer_maker = false;
      if (id == nullptr || m == nullptr) return DecodeStatus::kMissingField;
      if (!Dom::u64(*id, h.seq) || !Dom::boolean(*m, buyer_maker)) return DecodeStatus::kBadValue;
      if (auto st = this->symbol(h.venue, Dom::find(*p, "s"), h.symbol); st != DecodeStatus::kOk) return st;
      MarketEvent* out = w.add();
      if (out == nullptr) return DecodeStatus::kSinkFull;
      h.kind = EventKind::kTrade;
      TradeData td{};
      if (!this->fixed(Dom::find(*p, "p"), td.px) || !this->fixed(Dom::find(*p, "q"), td.qty)) {
        return DecodeStatus::kBadValue;
      }
      td.trade_id = h.seq;
      td.aggressor = buyer_maker ? Side::kSell : Side::kBuy;
      out->trade = td;
      return DecodeStatus::kOk;
    }
    if (e.empty() || e == "bookTicker") {
      const V* u = Dom::find(*p, "u");
      if (u == nullptr) return DecodeStatus::kUnknownMessage;
      if (!Dom::u64(*u, h.update_id)) return DecodeStatus::kBadValue;
      if (ev != nullptr || Dom::find(*p, "E") != nullptr) futures_ = true;
      h.venue = futures_ ? Venue::kBinanceFutures : Venue::kBinanceSpot;
      if (auto st = this->symbol(h.venue, Dom::find(*p, "s"), h.symbol); st != DecodeStatus::kOk) return st;
      BboData b{};
      if (!this->fixed(Dom::find(*p, "b"), b.bid.px) || !this->fixed(Dom::find(*p, "B"), b.bid.qty) ||
          !this->fixed(Dom::find(*p, "a"), b.ask.px) || !this->fixed(Dom::find(*p, "A"), b.ask.qty)) {
        return DecodeStatus::kBadValue;
      }
      MarketEvent* out = w.add();
      if (out == nullptr) return DecodeStatus::kSinkFull;
      h.kind = EventKind::kBbo;
      out->bbo = b;
      return DecodeStatus::kOk;
    }
    return DecodeStatus::kOk;  // other streams: skipped
  }

 private:
  bool futures_ = false;
  std::uint16_t last_depth_ = SymbolTable::kInvalid;
};

// --- Samples and the equality check ----------------------------------------------------------

struct Sample {
  testing::LoadedFile file;
  const char* name;
};

Sample& bybit_sample() {
  static Sample s{testing::load_lines(std::string(SHADOW_DATA_DIR) + "/" + testing::kBybitSample),
                  "bybit"};
  return s;
}
Sample& binance_sample() {
  static Sample s{testing::load_lines(std::string(SHADOW_DATA_DIR) + "/" + testing::kBinanceSample),
                  "binance"};
  return s;
}

using testing::same_event;  // decoder_test_support.h

template <class Decoder>
std::vector<MarketEvent> decode_all(const Sample& s) {
  SymbolTable symbols;
  auto dec = std::make_unique<Decoder>(symbols);
  testing::VectorSink sink;
  for (const auto& m : s.file.messages) {
    (void)dec->decode(m.data, m.len, m.capacity, m.local_ns, 0, sink);
  }
  return std::move(sink.events);
}

template <class Shadow, class Peer>
bool check_equal(const Sample& s, const char* peer) {
  const auto want = decode_all<Shadow>(s);
  const auto got = decode_all<Peer>(s);
  bool ok = want.size() == got.size();
  for (std::size_t i = 0; ok && i < want.size(); ++i) {
    if (!same_event(want[i], got[i])) {
      std::fprintf(stderr, "%s: %s event %zu differs from shadow's\n", s.name, peer, i);
      ok = false;
    }
  }
  if (want.size() != got.size()) {
    std::fprintf(stderr, "%s: %s produced %zu events, shadow %zu\n", s.name, peer, got.size(), want.size());
  }
  if (ok) std::fprintf(stderr, "%s: %s produces the same %zu events as shadow\n", s.name, peer, want.size());
  return ok && !want.empty();
}

// --- Benchmarks ------------------------------------------------------------------------------

// One pass over the sample. Kept out of line so that instruction counts of the decoding alone
// can be taken without the benchmark's setup (sink and decoder construction):
//   valgrind --tool=callgrind --toggle-collect='*decode_pass<shadow::BybitDecoder>*'
//     decoder_benchmark --benchmark_filter=BM_Bybit_Shadow --benchmark_min_time=0.01
template <class Decoder>
[[gnu::noinline]] void decode_pass(Decoder& dec, const Sample& s, testing::CountingSink& sink) {
  for (const auto& m : s.file.messages) {
    benchmark::DoNotOptimize(dec.decode(m.data, m.len, m.capacity, m.local_ns, 0, sink));
  }
}

template <class Decoder>
void run(benchmark::State& state, Sample& s) {
  if (!s.file.ok) {
    state.SkipWithError(("sample not loaded: " + s.file.error).c_str());
    return;
  }
  SymbolTable symbols;
  auto dec = std::make_unique<Decoder>(symbols);
  auto sink = std::make_unique<testing::CountingSink>();
  for (auto _ : state) decode_pass(*dec, s, *sink);
  benchmark::DoNotOptimize(sink->checksum);
  const auto n = static_cast<double>(s.file.messages.size());
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(s.file.messages.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s.file.bytes));
  // Seconds per message, printed with an SI prefix ("301.7n" = 301.7 ns).
  state.counters["time_per_msg"] = benchmark::Counter(
      n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["events_per_msg"] =
      static_cast<double>(sink->published) / (n * static_cast<double>(state.iterations()));
}

void BM_Binance_Shadow(benchmark::State& st) { run<BinanceDecoder>(st, binance_sample()); }
void BM_Binance_RapidJson(benchmark::State& st) { run<PeerBinance<RapidDom>>(st, binance_sample()); }
void BM_Binance_Nlohmann(benchmark::State& st) { run<PeerBinance<NlohmannDom>>(st, binance_sample()); }
void BM_Bybit_Shadow(benchmark::State& st) { run<BybitDecoder>(st, bybit_sample()); }
void BM_Bybit_RapidJson(benchmark::State& st) { run<PeerBybit<RapidDom>>(st, bybit_sample()); }
void BM_Bybit_Nlohmann(benchmark::State& st) { run<PeerBybit<NlohmannDom>>(st, bybit_sample()); }
BENCHMARK(BM_Binance_Shadow);
BENCHMARK(BM_Binance_RapidJson);
BENCHMARK(BM_Binance_Nlohmann);
BENCHMARK(BM_Bybit_Shadow);
BENCHMARK(BM_Bybit_RapidJson);
BENCHMARK(BM_Bybit_Nlohmann);

}  // namespace
}  // namespace shadow

int main(int argc, char** argv) {
  using namespace shadow;
  bool ok = true;
  if (bybit_sample().file.ok && binance_sample().file.ok) {
    ok &= check_equal<BybitDecoder, PeerBybit<RapidDom>>(bybit_sample(), "rapidjson");
    ok &= check_equal<BybitDecoder, PeerBybit<NlohmannDom>>(bybit_sample(), "nlohmann");
    ok &= check_equal<BinanceDecoder, PeerBinance<RapidDom>>(binance_sample(), "rapidjson");
    ok &= check_equal<BinanceDecoder, PeerBinance<NlohmannDom>>(binance_sample(), "nlohmann");
  } else {
    std::fprintf(stderr, "samples not loaded from %s: %s%s\n", SHADOW_DATA_DIR,
                 bybit_sample().file.error.c_str(), binance_sample().file.error.c_str());
  }
  if (!ok) {
    std::fprintf(stderr, "peer decoders disagree with shadow: refusing to compare\n");
    return 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
