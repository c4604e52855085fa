// DecoderBase: the skeleton every venue decoder shares, written once. A venue decoder derives
// from DecoderBase<Itself> (CRTP, so the venue's parse() is called directly and inlined, with no
// virtual call per message) and supplies only what differs between venues:
//
//   template <EventSink S>
//   DecodeStatus parse(od::document& doc, od::object& root, EventWriter<S>& w,
//                      MessageHeader& h, Outcome& outcome) noexcept;
//
// reading the root object's fields into events (claimed through w) and the header, and saying
// what kind of message it was. A decoder whose `kOnePass` is true also supplies
//
//   template <EventSink S>
//   OnePass parse_one_pass(const char* data, std::size_t len, std::size_t capacity,
//                          EventWriter<S>& w, MessageHeader& h, Outcome& outcome,
//                          DecodeStatus& st);
//
// (json_one_pass.h: read_one_pass(), an exact layout first when layouts_on()), which decode()
// tries first: how it read the message, with the message's status, or kGaveUp, and then the
// events it claimed are dropped and parse() reads the message again.
// The base owns the rest of a message's life: the stats, the simdjson document and the
// root-object check, the publish-or-abort rule (all events of the message or none) and the
// stamping of the shared header with the first/last flags.
//
// Not part of the feed API: include only from feed/*_decoder.h.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/event_sink.h"
#include "core/market_event.h"
#include "core/symbol_table.h"
#include "feed/decode_status.h"
#include "feed/internal/json_one_pass.h"
#include "feed/internal/json_util.h"

namespace shadow::feed_internal {

// What one message turned out to be, which decides its stats and how it is stamped.
enum class Outcome : std::uint8_t {
  kNone,      // nothing recognisable: counted as a skipped topic
  kSkip,      // a topic or event type this decoder does not decode
  kAck,       // subscription / request acknowledgement
  kPong,      // application-level pong
  kSnapshot,  // book snapshot events
  kDelta,     // book delta events
  kTrade,     // one trade, its fields in the header
  kTrades,    // one or more trades, each event holding its own symbol, time and seq
  kBbo,       // one best bid/offer event
  kInvalid,   // trades, none of them valid: one kNone event carries the counts (event_writer.h)
};

// a == b over n bytes with overlapping word loads that stay inside [0, n): symbol names are
// short, and this runs for every message, where a memcmp call costs more than the compare.
SHADOW_FEED_INLINE bool equal_short(const char* a, const char* b, std::size_t n) noexcept {
  auto load8 = [](const char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  auto load4 = [](const char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      if (load8(a + i) != load8(b + i)) return false;
    }
    return load8(a + n - 8) == load8(b + n - 8);
  }
  if (n >= 4) return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// The last symbol a decoder resolved, with a copy of its name and venue: venues send long runs
// of one symbol, and a hit then costs a length compare and two word compares, inline. The
// table only grows, so a cached id stays valid.
struct SymbolCache {
  std::uint16_t id = SymbolTable::kInvalid;
  Venue venue = Venue::kUnknown;
  std::uint8_t len = 0;  // 0: nothing cached
  char name[SymbolTable::kMaxNameLen] = {};

  SHADOW_FEED_INLINE bool hit(Venue v, std::string_view n) const noexcept {
    return n.size() == len && len != 0 && v == venue && equal_short(name, n.data(), len);
  }
};

// Symbol id of `name` for `venue` from the table, which becomes the cache's entry (the miss
// path of DecoderBase::symbol_id). kBadValue for an empty name, kSymbolTableFull when it
// cannot be added.
DecodeStatus lookup_symbol_id(SymbolTable& symbols, SymbolCache& cache, Venue venue,
                              std::string_view name, std::uint16_t& id) noexcept;

template <class Derived>
class DecoderBase {
 public:
  DecoderBase(const DecoderBase&) = delete;
  DecoderBase& operator=(const DecoderBase&) = delete;

  // Decodes one message. `data` must stay readable for `capacity` bytes and
  // capacity - len >= simdjson::SIMDJSON_PADDING (a whole capture file in memory with padding
  // at its end satisfies this for every line). local_ns / mono_ns are the receive timestamps
  // copied into every event. noexcept, no allocation after the constructor's reservation for
  // messages below kInitialCapacity, and all events of the message are published or none
  // (sink.abort()).
  template <EventSink S>
  DecodeStatus decode(const char* data, std::size_t len, std::size_t capacity,
                      std::int64_t local_ns, std::int64_t mono_ns, S& sink) noexcept;

  const DecoderStats& stats() const noexcept { return stats_; }

  // Messages the one-pass path read (json_one_pass.h); the others went through simdjson.
  std::uint64_t one_pass_messages() const noexcept { return one_pass_; }
  // Off: every message goes through simdjson (tests compare the two paths; benchmarks).
  void set_one_pass(bool on) noexcept { one_pass_on_ = on; }
  // Messages read by an exact layout (the decoder's read_layout()), a subset of the above.
  std::uint64_t layout_messages() const noexcept { return layout_; }
  // Off: the one-pass path reads every message field by field (tests compare the two).
  void set_layouts(bool on) noexcept { layouts_on_ = on; }

 protected:
  explicit DecoderBase(SymbolTable& symbols) noexcept : symbols_(symbols) {
    // Reserve up front so that decode() does not allocate for any message below this size. On
    // failure (out of memory) the parser allocates lazily on the first message instead.
    const simdjson::error_code err = parser_.allocate(kInitialCapacity, kMaxDepth);
    (void)err;
  }
  ~DecoderBase() = default;

  bool layouts_on() const noexcept { return layouts_on_; }

  DecodeStatus symbol_id(Venue venue, std::string_view name, std::uint16_t& id) noexcept {
    if (symbol_cache_.hit(venue, name)) [[likely]] {
      id = symbol_cache_.id;
      return DecodeStatus::kOk;
    }
    return lookup_symbol_id(symbols_, symbol_cache_, venue, name, id);
  }

  // On-Demand reads lazily: true when nothing but whitespace follows the root object, which a
  // venue's parse() checks once it has read the root's fields.
  static bool root_ends_document(od::document& doc) noexcept {
    return doc.current_location().error() != simdjson::SUCCESS;
  }

  SymbolTable& symbols_;
  DecoderStats stats_;

 private:
  template <EventSink S>
  DecodeStatus parse_root(const char* data, std::size_t len, std::size_t capacity,
                          EventWriter<S>& w, MessageHeader& h, Outcome& outcome) noexcept;

  simdjson::ondemand::parser parser_{kMaxDocumentBytes};
  SymbolCache symbol_cache_;
  bool one_pass_on_ = true;
  bool layouts_on_ = true;
  std::uint64_t one_pass_ = 0;
  std::uint64_t layout_ = 0;
  MarketEvent* slots_[kMaxEventsPerMessage];
  // The shape of the last book level read (json_scan.h decimal_pair()); Binance BTCUSDT's until
  // a level of another shape is read.
  PairShape<LevelFrame> level_shape_{5, 8, 1, 8};
};

// --- implementation -------------------------------------------------------------------------

template <class Derived>
template <EventSink S>
DecodeStatus DecoderBase<Derived>::decode(const char* data, std::size_t len,
                                          std::size_t capacity, std::int64_t local_ns,
                                          std::int64_t mono_ns, S& sink) noexcept {
  ++stats_.messages;
  stats_.bytes += len;
  EventWriter<S> w(sink, slots_, level_shape_);
  MessageHeader h;
  h.local_ns = local_ns;
  h.recv_mono_ns = mono_ns;
  h.msg_seq = stats_.messages;
  Outcome outcome = Outcome::kNone;
  DecodeStatus st = DecodeStatus::kOk;
  bool read = false;
  if constexpr (Derived::kOnePass) {
    if (one_pass_on_) {
      const OnePass how =
          static_cast<Derived*>(this)->parse_one_pass(data, len, capacity, w, h, outcome, st);
      read = how != OnePass::kGaveUp;
      if (read) {
        ++one_pass_;
        if (how == OnePass::kLayout) ++layout_;
      } else {
        w.restart();
      }
    }
  }
  if (!read) st = parse_root(data, len, capacity, w, h, outcome);
  if (st != DecodeStatus::kOk) {
    w.abort();
    stats_.count_error(st);
    return st;
  }
  switch (outcome) {
    case Outcome::kAck: ++stats_.acks; return DecodeStatus::kSkipped;
    case Outcome::kPong: ++stats_.pongs; return DecodeStatus::kSkipped;
    case Outcome::kSkip:
    case Outcome::kNone: ++stats_.skipped_topics; return DecodeStatus::kSkipped;
    case Outcome::kTrades:
      w.stamp_shared(h);
      ++stats_.trade_messages;
      stats_.trades += w.size();
      break;
    case Outcome::kTrade:
      w.stamp_all(h);
      ++stats_.trade_messages;
      ++stats_.trades;
      break;
    case Outcome::kBbo:
      w.stamp_all(h);
      ++stats_.bbo;
      break;
    case Outcome::kSnapshot:
    case Outcome::kDelta:
      w.stamp_all(h);
      ++(outcome == Outcome::kSnapshot ? stats_.book_snapshots : stats_.book_deltas);
      stats_.levels += w.levels();
      break;
    case Outcome::kInvalid:
      h.kind = EventKind::kNone;
      w.stamp_all(h);
      break;
  }
  stats_.invalid_price += w.invalid_price();
  stats_.invalid_qty += w.invalid_qty();
  stats_.events += w.size();
  w.publish();
  return DecodeStatus::kOk;
}

template <class Derived>
template <EventSink S>
DecodeStatus DecoderBase<Derived>::parse_root(const char* data, std::size_t len,
                                              std::size_t capacity, EventWriter<S>& w,
                                              MessageHeader& h, Outcome& outcome) noexcept {
  od::document doc;
  if (auto err = parser_.iterate(data, len, capacity).get(doc)) return status_of(err);
  od::json_type root_type;
  if (doc.type().get(root_type)) return DecodeStatus::kMalformedJson;
  if (root_type != od::json_type::object) return DecodeStatus::kUnknownMessage;
  od::object root;
  if (auto err = doc.get_object().get(root)) return status_of(err);
  return static_cast<Derived*>(this)->parse(doc, root, w, h, outcome);
}

}  // namespace shadow::feed_internal
