// BybitDecoder: Bybit v5 public WebSocket messages (raw JSON text) to MarketEvents.
//
// Accepts (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook, .../trade):
//   orderbook.{depth}.{symbol}  type "snapshot" | "delta" -> kBookSnapshot | kBookDelta events;
//                               a message with data.u == 1 is a snapshot whatever its type
//                               (Bybit resends the book after a service restart).
//   publicTrade.{symbol}        one kTrade event per element of data, all in one publish.
//   subscription acks, pongs    -> kSkipped (stats: acks, pongs)
//   any other topic             -> kSkipped (stats: skipped_topics)
// Fields are looked up by name in whatever order they come (spot and linear order them
// differently); prices and sizes are parsed exactly with parse_fixed, never through double.
//
// Contract: feed_internal::DecoderBase::decode() (noexcept, no allocation after warm-up, all
// events of a message or none). Not thread-safe: one decoder per feed thread.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "core/event_sink.h"
#include "core/market_event.h"
#include "core/symbol_table.h"
#include "feed/decode_status.h"
#include "feed/bybit_side.h"
#include "feed/internal/decoder_base.h"
#include "feed/internal/json_one_pass.h"
#include "feed/internal/json_util.h"

namespace shadow {

class BybitDecoder : public feed_internal::DecoderBase<BybitDecoder> {
 public:
  explicit BybitDecoder(SymbolTable& symbols) noexcept : DecoderBase(symbols) {}

  // Messages are read by the one-pass path first (feed/internal/json_one_pass.h).
  static constexpr bool kOnePass = true;

 private:
  friend DecoderBase;
  using Outcome = feed_internal::Outcome;
  enum class Topic : std::uint8_t { kNone, kBook, kTrade, kOther };

  // What the root object's fields said.
  struct Root {
    Topic topic = Topic::kNone;
    std::string_view type, op, ret_msg;
    std::string_view book_symbol;  // data.s of a book message
    bool have_type = false, have_ts = false, have_op = false, have_success = false;
    bool success = true, data_done = false, data_pending = false, snapshot_by_u = false;
  };

  template <EventSink S>
  DecodeStatus parse(simdjson::ondemand::document& doc, simdjson::ondemand::object& root,
                     feed_internal::EventWriter<S>& w, feed_internal::MessageHeader& h,
                     Outcome& outcome) noexcept;
  // The one-pass path (json_one_pass.h): false when it gave up on the message.
  template <EventSink S>
  feed_internal::OnePass parse_one_pass(const char* data, std::size_t len, std::size_t capacity,
                      feed_internal::EventWriter<S>& w, feed_internal::MessageHeader& h,
                      Outcome& outcome, DecodeStatus& st) noexcept;

  // The fields of the root object (od::object or feed_internal::ScanObject); `data` only when
  // the topic came before it (else r.data_pending).
  template <class Object, EventSink S>
  DecodeStatus read_root(Object& root, Root& r, feed_internal::EventWriter<S>& w,
                         feed_internal::MessageHeader& h) noexcept;
  template <class Value, EventSink S>
  DecodeStatus read_data(Value& v, Root& r, feed_internal::EventWriter<S>& w,
                         feed_internal::MessageHeader& h) noexcept;
  template <class Value, EventSink S>
  DecodeStatus read_book(Value& v, Root& r, feed_internal::EventWriter<S>& w,
                         feed_internal::MessageHeader& h) noexcept;
  template <class Value, EventSink S>
  DecodeStatus read_trades(Value& v, feed_internal::EventWriter<S>& w,
                           feed_internal::MessageHeader& h) noexcept;

  // An exact layout (json_one_pass.h) from the root's '{' at p: false when the text is not
  // one. Sets h only once the whole message has matched.
  template <EventSink S>
  bool read_layout(const char* p, const char* end, Root& r, feed_internal::EventWriter<S>& w,
                   feed_internal::MessageHeader& h) noexcept;
  // One trade of a publicTrade message, its fields read: claims its event, or counts it when
  // its price or size is impossible (EventWriter::check_trade).
  template <EventSink S>
  DecodeStatus add_trade(const TradeData& t, std::int64_t txn_ts_ms, std::uint64_t seq,
                         std::string_view symbol, feed_internal::EventWriter<S>& w,
                         feed_internal::MessageHeader& h) noexcept;

  // Acks, pongs and topics without market data: true with `st` set.
  bool answer_without_data(const Root& r, Outcome& outcome, DecodeStatus& st) noexcept;
  // Once the whole document has been read: the symbols (resolved only now, so a message that
  // fails adds none), the kind and the outcome of a book or trade message.
  template <EventSink S>
  DecodeStatus finish(const Root& r, feed_internal::EventWriter<S>& w,
                      feed_internal::MessageHeader& h, Outcome& outcome) noexcept;

  // Symbols of the message's valid trades, by event index, and of its last invalid one.
  std::string_view trade_symbols_[kMaxEventsPerMessage];
  std::string_view invalid_trade_symbol_;
};

// --- implementation -------------------------------------------------------------------------

template <EventSink S>
DecodeStatus BybitDecoder::parse(simdjson::ondemand::document& doc,
                                 simdjson::ondemand::object& root,
                                 feed_internal::EventWriter<S>& w,
                                 feed_internal::MessageHeader& h, Outcome& outcome) noexcept {
  namespace od = simdjson::ondemand;
  using feed_internal::status_of;

  h.venue = Venue::kBybit;
  Root r;
  if (auto st = read_root(root, r, w, h); st != DecodeStatus::kOk) return st;
  if (!root_ends_document(doc)) return DecodeStatus::kMalformedJson;
  if (DecodeStatus st; answer_without_data(r, outcome, st)) return st;
  if (r.data_pending && !r.data_done) {  // data came before topic: a second pass for it
    doc.rewind();
    if (auto err = doc.get_object().get(root)) return status_of(err);
    for (auto field_result : root) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) return status_of(err);
      if (feed_internal::key_is(field.key().raw(), "data")) {
        if (auto st = read_data(field.value(), r, w, h); st != DecodeStatus::kOk) return st;
        break;
      }
    }
  }
  return finish(r, w, h, outcome);
}

template <EventSink S>
feed_internal::OnePass BybitDecoder::parse_one_pass(const char* data, std::size_t len,
                                                    std::size_t capacity,
                                                    feed_internal::EventWriter<S>& w,
                                                    feed_internal::MessageHeader& h,
                                                    Outcome& outcome, DecodeStatus& st) noexcept {
  using feed_internal::OnePass;
  h.venue = Venue::kBybit;
  Root r;
  const OnePass how = feed_internal::read_one_pass(
      data, len, capacity, layouts_on(),
      [&](const char* p, const char* end) noexcept SHADOW_FEED_INLINE_LAMBDA {
        return read_layout(p, end, r, w, h);
      },
      [&](feed_internal::ScanObject& root) noexcept SHADOW_FEED_INLINE_LAMBDA {
        w.restart();  // what the layout claimed before it gave up
        r = Root{};
        return read_root(root, r, w, h);
      });
  if (how == OnePass::kGaveUp) return how;
  if (answer_without_data(r, outcome, st)) return how;
  if (r.data_pending && !r.data_done) return OnePass::kGaveUp;  // data before topic: rewind
  st = finish(r, w, h, outcome);
  return how;
}

template <class Object, EventSink S>
DecodeStatus BybitDecoder::read_root(Object& root, Root& r, feed_internal::EventWriter<S>& w,
                                     feed_internal::MessageHeader& h) noexcept {
  using feed_internal::get_bool;
  using feed_internal::get_i64;
  using feed_internal::key_is;
  using feed_internal::raw_string;
  using feed_internal::status_of;

  return feed_internal::for_each_field(root, [&](const char* k, auto& v)
                                                 noexcept SHADOW_FEED_INLINE_LAMBDA {
    if (key_is(k, "topic")) {
      std::string_view t;
      if (!raw_string(v, t)) return DecodeStatus::kBadValue;
      r.topic = t.starts_with("orderbook.")     ? Topic::kBook
                : t.starts_with("publicTrade.") ? Topic::kTrade
                                                : Topic::kOther;
    } else if (key_is(k, "type")) {
      if (!raw_string(v, r.type)) return DecodeStatus::kBadValue;
      r.have_type = true;
    } else if (key_is(k, "ts")) {
      if (auto err = get_i64(v, h.exch_ts_ms)) return status_of(err);
      r.have_ts = true;
    } else if (key_is(k, "cts")) {
      if (auto err = get_i64(v, h.txn_ts_ms)) return status_of(err);
    } else if (key_is(k, "data")) {
      if (r.topic == Topic::kNone) {
        r.data_pending = true;  // topic comes later: read data in a second pass
      } else {
        return read_data(v, r, w, h);
      }
    } else if (key_is(k, "op")) {
      if (!raw_string(v, r.op)) return DecodeStatus::kBadValue;
      r.have_op = true;
    } else if (key_is(k, "ret_msg")) {
      if (!raw_string(v, r.ret_msg)) return DecodeStatus::kBadValue;
    } else if (key_is(k, "success")) {
      if (auto err = get_bool(v, r.success)) return status_of(err);
      r.have_success = true;
    }
    return DecodeStatus::kOk;
  });
}

template <class Value, EventSink S>
DecodeStatus BybitDecoder::read_data(Value& v, Root& r, feed_internal::EventWriter<S>& w,
                                     feed_internal::MessageHeader& h) noexcept {
  r.data_done = true;
  if (r.topic == Topic::kBook) return read_book(v, r, w, h);
  if (r.topic == Topic::kTrade) return read_trades(v, w, h);
  return DecodeStatus::kOk;
}

inline bool BybitDecoder::answer_without_data(const Root& r, Outcome& outcome,
                                              DecodeStatus& st) noexcept {
  st = DecodeStatus::kOk;
  if (r.topic == Topic::kNone) {
    if (r.op == "pong" || r.ret_msg == "pong") {
      outcome = Outcome::kPong;
    } else if (r.have_op || r.have_success) {
      outcome = Outcome::kAck;
      if (!r.success) ++stats_.failed_acks;
    } else {
      st = DecodeStatus::kUnknownMessage;
    }
    return true;
  }
  if (r.topic == Topic::kOther) {
    outcome = Outcome::kSkip;
    return true;
  }
  return false;
}

template <EventSink S>
DecodeStatus BybitDecoder::finish(const Root& r, feed_internal::EventWriter<S>& w,
                                  feed_internal::MessageHeader& h, Outcome& outcome) noexcept {
  if (!r.data_done || !r.have_ts) return DecodeStatus::kMissingField;

  if (r.topic == Topic::kTrade) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (auto st = symbol_id(Venue::kBybit, trade_symbols_[i], w.at(i)->symbol);
          st != DecodeStatus::kOk) {
        return st;
      }
    }
    if (w.size() == 0 && w.any_invalid()) {
      // Every trade was invalid: one event carries the counts, with the last trade's symbol.
      if (auto st = symbol_id(Venue::kBybit, invalid_trade_symbol_, h.symbol);
          st != DecodeStatus::kOk) {
        return st;
      }
      MarketEvent* e = w.add();
      if (e == nullptr) return DecodeStatus::kSinkFull;
      e->trade = TradeData{};
      outcome = Outcome::kInvalid;
      return DecodeStatus::kOk;
    }
    if (w.size() == 0) {
      outcome = Outcome::kSkip;  // an empty trade list carries nothing
      return DecodeStatus::kOk;
    }
    h.kind = EventKind::kTrade;
    outcome = Outcome::kTrades;
    return DecodeStatus::kOk;
  }
  if (!r.have_type) return DecodeStatus::kMissingField;
  if (r.type == "snapshot" || r.snapshot_by_u) {
    h.kind = EventKind::kBookSnapshot;
    outcome = Outcome::kSnapshot;
  } else if (r.type == "delta") {
    h.kind = EventKind::kBookDelta;
    outcome = Outcome::kDelta;
  } else {
    return DecodeStatus::kBadValue;
  }
  if (auto st = symbol_id(Venue::kBybit, r.book_symbol, h.symbol); st != DecodeStatus::kOk) {
    return st;
  }
  // A message without levels still yields one event so sequencing sees its update id.
  if (w.size() == 0 && w.add() == nullptr) return DecodeStatus::kSinkFull;
  return DecodeStatus::kOk;
}

template <class Value, EventSink S>
DecodeStatus BybitDecoder::read_book(Value& v, Root& r, feed_internal::EventWriter<S>& w,
                                     feed_internal::MessageHeader& h) noexcept {
  using feed_internal::get_u64;
  using feed_internal::key_is;
  using feed_internal::raw_string;
  using feed_internal::read_levels;
  using feed_internal::status_of;

  enum : unsigned { kS = 1, kB = 2, kA = 4, kU = 8 };
  unsigned seen = 0;
  auto read_field = [&](const char* k, auto& fv) noexcept SHADOW_FEED_INLINE_LAMBDA {
    if (key_is(k, "b")) {
      seen |= kB;
      return read_levels(fv, true, w);
    }
    if (key_is(k, "a")) {
      seen |= kA;
      return read_levels(fv, false, w);
    }
    if (key_is(k, "s")) {
      if (!raw_string(fv, r.book_symbol)) return DecodeStatus::kBadValue;
      seen |= kS;
    } else if (key_is(k, "u")) {
      if (auto err = get_u64(fv, h.update_id)) return status_of(err);
      seen |= kU;
    } else if (key_is(k, "seq")) {
      if (auto err = get_u64(fv, h.seq)) return status_of(err);
    }
    return DecodeStatus::kOk;
  };
  if (auto st = feed_internal::visit_object(
          v, [&](auto& obj) noexcept { return feed_internal::for_each_field(obj, read_field); });
      st != DecodeStatus::kOk) {
    return st;
  }
  if (seen != (kS | kB | kA | kU)) return DecodeStatus::kMissingField;
  h.first_update_id = h.update_id;
  r.snapshot_by_u = h.update_id == 1;
  return DecodeStatus::kOk;
}

// A trade with a price <= 0 or a size <= 0 is dropped and counted (EventWriter::check_trade);
// the message's other trades are published.
template <class Value, EventSink S>
DecodeStatus BybitDecoder::read_trades(Value& v, feed_internal::EventWriter<S>& w,
                                       feed_internal::MessageHeader& h) noexcept {
  using feed_internal::decimal;
  using feed_internal::get_i64;
  using feed_internal::get_u64;
  using feed_internal::key_is;
  using feed_internal::raw_string;
  using feed_internal::status_of;

  return feed_internal::visit_objects(v, [&](auto& obj) noexcept {
    TradeData t{};
    std::int64_t txn_ts_ms = 0;
    std::uint64_t seq = 0;
    enum : unsigned { kT = 1, kSym = 2, kSide = 4, kV = 8, kP = 16 };
    unsigned seen = 0;
    std::string_view symbol;
    auto read_field = [&](const char* k, auto& fv) noexcept SHADOW_FEED_INLINE_LAMBDA {
      if (key_is(k, "p")) {
        if (!decimal(fv, t.px)) return DecodeStatus::kBadValue;
        seen |= kP;
      } else if (key_is(k, "v")) {
        if (!decimal(fv, t.qty)) return DecodeStatus::kBadValue;
        seen |= kV;
      } else if (key_is(k, "S")) {
        std::string_view side;
        if (!raw_string(fv, side) || !parse_bybit_side(side, t.aggressor)) {
          return DecodeStatus::kBadValue;
        }
        seen |= kSide;
      } else if (key_is(k, "T")) {
        if (auto err = get_i64(fv, txn_ts_ms)) return status_of(err);
        seen |= kT;
      } else if (key_is(k, "s")) {
        if (!raw_string(fv, symbol)) return DecodeStatus::kBadValue;
        seen |= kSym;
      } else if (key_is(k, "i")) {
        std::string_view id;
        if (!raw_string(fv, id)) return DecodeStatus::kBadValue;
        if (!feed_internal::numeric_id(id, t.trade_id)) t.trade_id = 0;  // UUIDs: no number
      } else if (key_is(k, "seq")) {
        if (auto err = get_u64(fv, seq)) return status_of(err);
      }
      return DecodeStatus::kOk;
    };
    if (auto st = feed_internal::for_each_field(obj, read_field); st != DecodeStatus::kOk) {
      return st;
    }
    if (seen != (kT | kSym | kSide | kV | kP)) return DecodeStatus::kMissingField;
    return add_trade(t, txn_ts_ms, seq, symbol, w, h);
  });
}

template <EventSink S>
DecodeStatus BybitDecoder::add_trade(const TradeData& t, std::int64_t txn_ts_ms,
                                     std::uint64_t seq, std::string_view symbol,
                                     feed_internal::EventWriter<S>& w,
                                     feed_internal::MessageHeader& h) noexcept {
  if (symbol.empty()) return DecodeStatus::kBadValue;  // what symbol_id() says, said now
  if (auto st = w.check_trade(t.px, t.qty); st != DecodeStatus::kOk) {
    if (st != DecodeStatus::kSkipped) return st;
    invalid_trade_symbol_ = symbol;  // for the event that carries the counts if none is valid
    h.txn_ts_ms = txn_ts_ms;
    h.seq = seq;
    return DecodeStatus::kOk;
  }
  MarketEvent* e = w.add();
  if (e == nullptr) return DecodeStatus::kSinkFull;
  trade_symbols_[w.size() - 1] = symbol;
  e->txn_ts_ms = txn_ts_ms;
  e->seq = seq;
  e->trade = t;
  return DecodeStatus::kOk;
}

// The layouts Bybit v5 sends (feed/README.md "Exact layouts first"); the embedded exchange
// writes the same:
//   orderbook    {"topic":"orderbook.…","type":"T","ts":N,
//                 "data":{"s":"S","b":[levels],"a":[levels],"u":N,"seq":N},"cts":N}
//   publicTrade  {"topic":"publicTrade.…","type":"T","ts":N,"data":[trade,…]}, each trade
//                 {"T":N,"s":"S","S":"Buy"|"Sell","v":"D","p":"D","L":"…","i":"…","BT":B}
//                 with an optional ,"seq":N before its '}'
// Each field sets what read_root(), read_book() and read_trades() set for it, with the same
// value readers.
template <EventSink S>
bool BybitDecoder::read_layout(const char* p, const char* end, Root& r,
                               feed_internal::EventWriter<S>& w,
                               feed_internal::MessageHeader& h) noexcept {
  using namespace feed_internal::layout;  // lit, u64, i64, str, dec, boolean, levels, root_ends
  std::string_view topic;
  std::int64_t ts = 0;
  if (!lit(p, end, "{\"topic\":") || !str(p, end, topic) ||
      !lit(p, end, ",\"type\":") || !str(p, end, r.type) ||
      !lit(p, end, ",\"ts\":") || !i64(p, end, ts) ||
      !lit(p, end, ",\"data\":")) {
    return false;
  }
  r.have_type = r.have_ts = r.data_done = true;
  if (topic.starts_with("orderbook.")) {
    std::uint64_t u = 0, seq = 0;
    std::int64_t cts = 0;
    if (!lit(p, end, "{\"s\":") || !str(p, end, r.book_symbol) ||
        !lit(p, end, ",\"b\":") || !levels(p, end, true, w) ||
        !lit(p, end, ",\"a\":") || !levels(p, end, false, w) ||
        !lit(p, end, ",\"u\":") || !u64(p, end, u) ||
        !lit(p, end, ",\"seq\":") || !u64(p, end, seq) ||
        !lit(p, end, "},\"cts\":") || !i64(p, end, cts) ||
        !root_ends(p, end)) {
      return false;
    }
    r.topic = Topic::kBook;
    r.snapshot_by_u = u == 1;
    h.exch_ts_ms = ts;
    h.txn_ts_ms = cts;
    h.first_update_id = h.update_id = u;
    h.seq = seq;
    return true;
  }
  if (!topic.starts_with("publicTrade.") || !lit(p, end, "[")) return false;
  r.topic = Topic::kTrade;
  if (*p != ']') {
    for (;;) {
      TradeData t{};
      std::int64_t txn_ts_ms = 0;
      std::uint64_t seq = 0;
      std::string_view symbol, side, tick_direction, id;
      bool block_trade;
      if (!lit(p, end, "{\"T\":") || !i64(p, end, txn_ts_ms) ||
          !lit(p, end, ",\"s\":") || !str(p, end, symbol) ||
          !lit(p, end, ",\"S\":") || !str(p, end, side) ||
          !lit(p, end, ",\"v\":") || !dec(p, end, t.qty) ||
          !lit(p, end, ",\"p\":") || !dec(p, end, t.px) ||
          !lit(p, end, ",\"L\":") || !str(p, end, tick_direction) ||
          !lit(p, end, ",\"i\":") || !str(p, end, id) ||
          !lit(p, end, ",\"BT\":") || !boolean(p, end, block_trade)) {
        return false;
      }
      if (lit(p, end, ",\"seq\":") && !u64(p, end, seq)) return false;
      if (!lit(p, end, "}")) return false;
      if (!parse_bybit_side(side, t.aggressor)) return false;
      if (!feed_internal::numeric_id(id, t.trade_id)) t.trade_id = 0;  // UUIDs: no number
      if (add_trade(t, txn_ts_ms, seq, symbol, w, h) != DecodeStatus::kOk) return false;
      if (lit(p, end, ",")) continue;
      break;
    }
  }
  if (!lit(p, end, "]") || !root_ends(p, end)) return false;
  h.exch_ts_ms = ts;
  return true;
}

}  // namespace shadow
