// BinanceDecoder: Binance spot and USD-M/COIN-M futures market streams (raw JSON text) to
// MarketEvents.
//
// Accepts the combined-stream wrapper {"stream":"btcusdt@depth@100ms","data":{...}} and the
// bare payload of a raw stream (https://developers.binance.com/docs/binance-spot-api-docs/
// web-socket-streams, .../derivatives/usds-margined-futures/websocket-market-streams):
//   depthUpdate  (e,E,s,U,u,b,a; futures adds pu,T) -> kBookDelta events
//   trade        (e,E,s,t,p,q,T,m)                  -> one kTrade event
//   aggTrade     (e,E,s,a,p,q,f,l,T,m)              -> one kTrade event
//   bookTicker   (u,s,b,B,a,A; futures adds e,E,T)  -> one kBbo event
//   REST depth snapshot {"lastUpdateId":N,"bids":[...],"asks":[...]} (futures adds E,T)
//                                                   -> kBookSnapshot events
//   {"result":...,"id":...} / {"error":...}        -> kSkipped (stats: acks)
//   any other event type or non-object stream data -> kSkipped (stats: skipped_topics)
// The symbol is the payload's "s" (upper case), never the lower-case stream name.
//
// Venue: kBinanceFutures for a depthUpdate with pu, a bookTicker or snapshot with E/T, and —
// once any of those has been seen — for every later message of this decoder (trades carry no
// marker); kBinanceSpot otherwise.
//
// Contract: feed_internal::DecoderBase::decode() (noexcept, no allocation after warm-up, all
// events of a message or none). Not thread-safe: one decoder per feed thread.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/event_sink.h"
#include "core/market_event.h"
#include "core/symbol_table.h"
#include "core/zero_bytes.h"
#include "feed/decode_status.h"
#include "feed/internal/decoder_base.h"
#include "feed/internal/json_one_pass.h"
#include "feed/internal/json_util.h"

namespace shadow {

class BinanceDecoder : public feed_internal::DecoderBase<BinanceDecoder> {
 public:
  explicit BinanceDecoder(SymbolTable& symbols) noexcept : DecoderBase(symbols) {}

  // Messages are read by the one-pass path first (feed/internal/json_one_pass.h).
  static constexpr bool kOnePass = true;

  // The REST depth snapshot names no symbol: it is attributed to this symbol when set (at most
  // SymbolTable::kMaxNameLen characters; longer names are ignored), else to the symbol of the
  // most recent depthUpdate decoded. An empty name clears it.
  void set_snapshot_symbol(std::string_view symbol) noexcept;

 private:
  friend DecoderBase;
  using Outcome = feed_internal::Outcome;
  enum class Type : std::uint8_t { kNone, kDepth, kTrade, kAggTrade, kBookTicker, kOther };

  // Everything read from one payload, by field name (bits in `seen`).
  struct Fields {
    enum : std::uint32_t {
      kE = 1u << 0, kEventTime = 1u << 1, kS = 1u << 2, kFirstU = 1u << 3, kU = 1u << 4,
      kPu = 1u << 5, kT = 1u << 6, kBLevels = 1u << 7, kALevels = 1u << 8, kBStr = 1u << 9,
      kAStr = 1u << 10, kBQty = 1u << 11, kAQty = 1u << 12, kTradeId = 1u << 13,
      kAggId = 1u << 14, kP = 1u << 15, kQ = 1u << 16, kM = 1u << 17, kLastUpdateId = 1u << 18,
      kBids = 1u << 19, kAsks = 1u << 20, kResult = 1u << 21, kError = 1u << 22,
      kData = 1u << 23,
    };
    std::uint32_t seen = 0;
    Type type = Type::kNone;
    bool buyer_maker = false;
    bool data_not_object = false;
    std::int64_t event_time = 0, txn_time = 0;  // build() reads these unseen (0: absent)
    // Read only where `seen` has their bit: not initialized.
    std::string_view symbol;
    std::uint64_t first_u, u, pu, trade_id, agg_id, last_update_id;
    Fixed bid_px, bid_qty, ask_px, ask_qty, px, qty;

    // Zeroes what is read unseen: seen, the flags and the times (zero_bytes(), where GCC's
    // zeroing of the whole struct was rep stos; the values past them are 112 of its 136 bytes).
    void clear() noexcept { zero_bytes<offsetof(Fields, symbol)>(this); }
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
  // Reads the fields of `obj` (od::object or feed_internal::ScanObject) into f.
  template <class Object, EventSink S>
  DecodeStatus read_object(Object& obj, bool root, Fields& f,
                           feed_internal::EventWriter<S>& w) noexcept;
  // An exact layout (json_one_pass.h) from the root's '{' at p: false when the text is not one.
  template <EventSink S>
  bool read_layout(const char* p, const char* end, Fields& f,
                   feed_internal::EventWriter<S>& w) noexcept;
  template <EventSink S>
  DecodeStatus build(Fields& f, feed_internal::EventWriter<S>& w, feed_internal::MessageHeader& h,
                     Outcome& outcome) noexcept;

  DecodeStatus snapshot_symbol_id(Venue venue, std::uint16_t& id) noexcept;

  // The decimal pairs the layouts read in one pass (layout::dec_pair, json_scan.h
  // decimal_pair), from the price's opening quote: bookTicker `"b":"P","B":"Q"` and its ask,
  // trade `"p":"P","q":"Q"`. `sep` is the literal between the two values.
  struct BidFrame {
    static constexpr char head[] = "\"", mid[] = ",\"B\":\"", tail[] = "", sep[] = ",\"B\":";
  };
  struct AskFrame {
    static constexpr char head[] = "\"", mid[] = ",\"A\":\"", tail[] = "", sep[] = ",\"A\":";
  };
  struct TradeFrame {
    static constexpr char head[] = "\"", mid[] = ",\"q\":\"", tail[] = "", sep[] = ",\"q\":";
  };
  // Their shapes, kept from one message to the next (BTCUSDT's until others are read).
  feed_internal::PairShape<BidFrame> bid_shape_{5, 8, 1, 8};
  feed_internal::PairShape<AskFrame> ask_shape_{5, 8, 1, 8};
  feed_internal::PairShape<TradeFrame> trade_shape_{5, 8, 1, 8};

  bool futures_seen_ = false;
  std::uint16_t last_depth_symbol_ = SymbolTable::kInvalid;
  std::uint8_t snapshot_symbol_len_ = 0;
  char snapshot_symbol_[SymbolTable::kMaxNameLen] = {};
};

// --- implementation -------------------------------------------------------------------------

template <EventSink S>
DecodeStatus BinanceDecoder::parse(simdjson::ondemand::document& doc,
                                   simdjson::ondemand::object& root,
                                   feed_internal::EventWriter<S>& w,
                                   feed_internal::MessageHeader& h, Outcome& outcome) noexcept {
  Fields f;
  f.clear();
  if (auto st = read_object(root, true, f, w); st != DecodeStatus::kOk) return st;
  if (!root_ends_document(doc)) return DecodeStatus::kMalformedJson;
  return build(f, w, h, outcome);
}

template <EventSink S>
feed_internal::OnePass BinanceDecoder::parse_one_pass(const char* data, std::size_t len,
                                                      std::size_t capacity,
                                                      feed_internal::EventWriter<S>& w,
                                                      feed_internal::MessageHeader& h,
                                                      Outcome& outcome, DecodeStatus& st) noexcept {
  static_assert(std::is_trivially_copyable_v<Fields>);
  Fields f;
  f.clear();
  const feed_internal::OnePass how = feed_internal::read_one_pass(
      data, len, capacity, layouts_on(),
      [&](const char* p, const char* end) noexcept SHADOW_FEED_INLINE_LAMBDA {
        return read_layout(p, end, f, w);
      },
      [&](feed_internal::ScanObject& root) noexcept SHADOW_FEED_INLINE_LAMBDA {
        w.restart();  // what the layout claimed before it gave up
        f.clear();
        return read_object(root, true, f, w);
      });
  if (how != feed_internal::OnePass::kGaveUp) st = build(f, w, h, outcome);
  return how;
}

// The layouts Binance spot sends (feed/README.md "Exact layouts first"), wrapped in the combined
// stream's {"stream":"...","data":{...}} or bare:
//   bookTicker   {"u":N,"s":"S","b":"D","B":"D","a":"D","A":"D"}
//   trade        {"e":"trade","E":N,"s":"S","t":N,"p":"D","q":"D","T":N,"m":B,"M":B}
//   depthUpdate  {"e":"depthUpdate","E":N,"s":"S","U":N,"u":N,"b":[levels],"a":[levels]}
// Each field sets what read_object() sets for it, with the same value readers.
template <EventSink S>
bool BinanceDecoder::read_layout(const char* p, const char* end, Fields& f,
                                 feed_internal::EventWriter<S>& w) noexcept {
  // lit, u64, i64, str, dec, dec_pair, boolean, levels, root_ends
  using namespace feed_internal::layout;
  using F = Fields;
  const bool wrapped = lit(p, end, "{\"stream\":");
  if (wrapped) {
    std::string_view stream;
    if (!str(p, end, stream) || !lit(p, end, ",\"data\":{")) return false;
    f.seen = F::kData;
  } else {
    ++p;  // the root's '{'
  }
  if (lit(p, end, "\"u\":")) {
    if (!u64(p, end, f.u) || !lit(p, end, ",\"s\":") ||
        !str(p, end, f.symbol) || !lit(p, end, ",\"b\":") ||
        !dec_pair(p, end, bid_shape_, f.bid_px, f.bid_qty) ||
        !lit(p, end, ",\"a\":") || !dec_pair(p, end, ask_shape_, f.ask_px, f.ask_qty)) {
      return false;
    }
    f.seen |= F::kU | F::kS | F::kBStr | F::kBQty | F::kAStr | F::kAQty;
  } else if (lit(p, end, "\"e\":\"trade\",\"E\":")) {
    bool maker_match;  // "M": read, then ignored as read_object ignores it
    if (!i64(p, end, f.event_time) || !lit(p, end, ",\"s\":") ||
        !str(p, end, f.symbol) || !lit(p, end, ",\"t\":") ||
        !u64(p, end, f.trade_id) || !lit(p, end, ",\"p\":") ||
        !dec_pair(p, end, trade_shape_, f.px, f.qty) || !lit(p, end, ",\"T\":") ||
        !i64(p, end, f.txn_time) || !lit(p, end, ",\"m\":") ||
        !boolean(p, end, f.buyer_maker) || !lit(p, end, ",\"M\":") ||
        !boolean(p, end, maker_match)) {
      return false;
    }
    f.type = Type::kTrade;
    f.seen |= F::kE | F::kEventTime | F::kS | F::kTradeId | F::kP | F::kQ | F::kT | F::kM;
  } else if (lit(p, end, "\"e\":\"depthUpdate") && lit(p, end, "\",\"E\":")) {
    if (!i64(p, end, f.event_time) || !lit(p, end, ",\"s\":") ||
        !str(p, end, f.symbol) || !lit(p, end, ",\"U\":") ||
        !u64(p, end, f.first_u) || !lit(p, end, ",\"u\":") ||
        !u64(p, end, f.u) || !lit(p, end, ",\"b\":") ||
        !levels(p, end, true, w) || !lit(p, end, ",\"a\":") ||
        !levels(p, end, false, w)) {
      return false;
    }
    f.type = Type::kDepth;
    f.seen |= F::kE | F::kEventTime | F::kS | F::kFirstU | F::kU | F::kBLevels | F::kALevels;
  } else {
    return false;
  }
  if (wrapped && !lit(p, end, "}")) return false;  // the payload's '}'
  return root_ends(p, end);
}

template <class Object, EventSink S>
DecodeStatus BinanceDecoder::read_object(Object& obj, bool root, Fields& f,
                                         feed_internal::EventWriter<S>& w) noexcept {
  using feed_internal::decimal;
  using feed_internal::first_char;
  using feed_internal::get_bool;
  using feed_internal::get_i64;
  using feed_internal::get_u64;
  using feed_internal::key_is;
  using feed_internal::raw_string;
  using feed_internal::read_levels;
  using feed_internal::status_of;
  using feed_internal::with_object;

  return feed_internal::for_each_field(obj, [&](const char* k, auto& v)
                                                noexcept SHADOW_FEED_INLINE_LAMBDA {
    DecodeStatus st = DecodeStatus::kOk;
    // Keys are one or two characters except a few; dispatch on the first one.
    switch (k[0]) {
      case 'e':
        if (key_is(k, "e")) {
          std::string_view e;
          if (!raw_string(v, e)) return DecodeStatus::kBadValue;
          f.type = e == "depthUpdate"  ? Type::kDepth
                   : e == "trade"      ? Type::kTrade
                   : e == "aggTrade"   ? Type::kAggTrade
                   : e == "bookTicker" ? Type::kBookTicker
                                       : Type::kOther;
          f.seen |= Fields::kE;
        } else if (key_is(k, "error")) {
          f.seen |= Fields::kError;
        }
        break;
      case 'E':
        if (key_is(k, "E")) {
          if (auto err = get_i64(v, f.event_time)) return status_of(err);
          f.seen |= Fields::kEventTime;
        }
        break;
      case 'T':
        if (key_is(k, "T")) {
          if (auto err = get_i64(v, f.txn_time)) return status_of(err);
          f.seen |= Fields::kT;
        }
        break;
      case 's':
        if (key_is(k, "s")) {
          if (!raw_string(v, f.symbol)) return DecodeStatus::kBadValue;
          f.seen |= Fields::kS;
        }
        break;
      case 'U':
        if (key_is(k, "U")) {
          if (auto err = get_u64(v, f.first_u)) return status_of(err);
          f.seen |= Fields::kFirstU;
        }
        break;
      case 'u':
        if (key_is(k, "u")) {
          if (auto err = get_u64(v, f.u)) return status_of(err);
          f.seen |= Fields::kU;
        }
        break;
      case 'p':
        if (key_is(k, "p")) {
          if (!decimal(v, f.px)) return DecodeStatus::kBadValue;
          f.seen |= Fields::kP;
        } else if (key_is(k, "pu")) {
          if (auto err = get_u64(v, f.pu)) return status_of(err);
          f.seen |= Fields::kPu;
        }
        break;
      case 'q':
        if (key_is(k, "q")) {
          if (!decimal(v, f.qty)) return DecodeStatus::kBadValue;
          f.seen |= Fields::kQ;
        }
        break;
      case 't':
        if (key_is(k, "t")) {
          if (auto err = get_u64(v, f.trade_id)) return status_of(err);
          f.seen |= Fields::kTradeId;
        }
        break;
      case 'm':
        if (key_is(k, "m")) {
          if (auto err = get_bool(v, f.buyer_maker)) return status_of(err);
          f.seen |= Fields::kM;
        }
        break;
      case 'b':
      case 'a': {
        const bool bid = k[0] == 'b';
        if (k[1] == '"') {
          // "b"/"a": depth levels (array), bookTicker price (string) or aggTrade id (number).
          const char c = first_char(v);
          if (c == '[') {
            st = read_levels(v, bid, w);
            f.seen |= bid ? Fields::kBLevels : Fields::kALevels;
          } else if (c == '"') {
            if (!decimal(v, bid ? f.bid_px : f.ask_px)) return DecodeStatus::kBadValue;
            f.seen |= bid ? Fields::kBStr : Fields::kAStr;
          } else if (!bid) {
            if (auto err = get_u64(v, f.agg_id)) return status_of(err);
            f.seen |= Fields::kAggId;
          } else {
            return DecodeStatus::kBadValue;
          }
        } else if (bid ? key_is(k, "bids") : key_is(k, "asks")) {
          st = read_levels(v, bid, w);
          f.seen |= bid ? Fields::kBids : Fields::kAsks;
        }
        break;
      }
      case 'B':
        if (key_is(k, "B")) {
          if (!decimal(v, f.bid_qty)) return DecodeStatus::kBadValue;
          f.seen |= Fields::kBQty;
        }
        break;
      case 'A':
        if (key_is(k, "A")) {
          if (!decimal(v, f.ask_qty)) return DecodeStatus::kBadValue;
          f.seen |= Fields::kAQty;
        }
        break;
      case 'l':
        if (key_is(k, "lastUpdateId")) {
          if (auto err = get_u64(v, f.last_update_id)) return status_of(err);
          f.seen |= Fields::kLastUpdateId;
        }
        break;
      case 'r':
        if (key_is(k, "result")) f.seen |= Fields::kResult;
        break;
      case 'c':
        if (key_is(k, "code")) f.seen |= Fields::kError;
        break;
      case 'd':
        if (root && key_is(k, "data")) {
          f.seen |= Fields::kData;
          // Not an object (e.g. "!ticker@arr" streams): not decoded here.
          st = with_object(v, f.data_not_object,
                           [&](auto& payload) noexcept { return read_object(payload, false, f, w); });
        }
        break;
      default:
        break;
    }
    return st;
  });
}

template <EventSink S>
DecodeStatus BinanceDecoder::build(Fields& f, feed_internal::EventWriter<S>& w,
                                   feed_internal::MessageHeader& h, Outcome& outcome) noexcept {
  using F = Fields;
  auto has = [&f](std::uint32_t bits) noexcept { return (f.seen & bits) == bits; };
  const bool any_levels = (f.seen & (F::kBLevels | F::kALevels | F::kBids | F::kAsks)) != 0;
  h.exch_ts_ms = f.event_time;
  h.txn_ts_ms = f.txn_time;

  if (has(F::kLastUpdateId)) {  // REST depth snapshot
    if (!has(F::kBids | F::kAsks)) return DecodeStatus::kMissingField;
    if (f.seen & (F::kEventTime | F::kT)) futures_seen_ = true;
    h.venue = futures_seen_ ? Venue::kBinanceFutures : Venue::kBinanceSpot;
    if (auto st = snapshot_symbol_id(h.venue, h.symbol); st != DecodeStatus::kOk) return st;
    h.kind = EventKind::kBookSnapshot;
    h.first_update_id = h.update_id = f.last_update_id;
    if (w.size() == 0 && w.add() == nullptr) return DecodeStatus::kSinkFull;
    outcome = Outcome::kSnapshot;
    return DecodeStatus::kOk;
  }
  if (f.type == Type::kDepth) {
    if (!has(F::kEventTime | F::kS | F::kFirstU | F::kU | F::kBLevels | F::kALevels)) {
      return DecodeStatus::kMissingField;
    }
    if (f.seen & F::kPu) {
      futures_seen_ = true;
      h.venue = Venue::kBinanceFutures;
      h.flags = kHasPrevUpdateId;
      h.prev_update_id = f.pu;
    } else {
      h.venue = Venue::kBinanceSpot;
    }
    if (auto st = symbol_id(h.venue, f.symbol, h.symbol); st != DecodeStatus::kOk) return st;
    last_depth_symbol_ = h.symbol;
    h.kind = EventKind::kBookDelta;
    h.first_update_id = f.first_u;
    h.update_id = f.u;
    if (w.size() == 0 && w.add() == nullptr) return DecodeStatus::kSinkFull;
    outcome = Outcome::kDelta;
    return DecodeStatus::kOk;
  }
  if (any_levels) return DecodeStatus::kBadValue;  // levels in a message that has none

  if (f.type == Type::kTrade || f.type == Type::kAggTrade) {
    const std::uint32_t id_bit = f.type == Type::kTrade ? F::kTradeId : F::kAggId;
    if (!has(F::kEventTime | F::kS | id_bit | F::kP | F::kQ | F::kT | F::kM)) {
      return DecodeStatus::kMissingField;
    }
    h.venue = futures_seen_ ? Venue::kBinanceFutures : Venue::kBinanceSpot;
    if (auto st = symbol_id(h.venue, f.symbol, h.symbol); st != DecodeStatus::kOk) return st;
    MarketEvent* e = w.add();
    if (e == nullptr) return DecodeStatus::kSinkFull;
    h.seq = f.type == Type::kTrade ? f.trade_id : f.agg_id;
    e->trade = TradeData{};
    // A price <= 0 or a size <= 0: the trade is dropped and counted; the one event carries
    // the count instead (kNone, no payload).
    if (w.check_trade(f.px, f.qty) != DecodeStatus::kOk) {
      outcome = Outcome::kInvalid;
      return DecodeStatus::kOk;
    }
    h.kind = EventKind::kTrade;
    e->trade.px = f.px;
    e->trade.qty = f.qty;
    e->trade.trade_id = h.seq;
    // m: the buyer is the maker, so the seller was the aggressor.
    e->trade.aggressor = f.buyer_maker ? Side::kSell : Side::kBuy;
    outcome = Outcome::kTrade;
    return DecodeStatus::kOk;
  }
  if (f.type == Type::kBookTicker ||
      (f.type == Type::kNone && (f.seen & (F::kU | F::kBStr | F::kAStr)) != 0)) {
    if (!has(F::kU | F::kS | F::kBStr | F::kBQty | F::kAStr | F::kAQty)) {
      return DecodeStatus::kMissingField;
    }
    if (f.seen & (F::kE | F::kEventTime | F::kT)) futures_seen_ = true;
    h.venue = futures_seen_ ? Venue::kBinanceFutures : Venue::kBinanceSpot;
    if (auto st = symbol_id(h.venue, f.symbol, h.symbol); st != DecodeStatus::kOk) return st;
    MarketEvent* e = w.add();
    if (e == nullptr) return DecodeStatus::kSinkFull;
    h.kind = EventKind::kBbo;
    h.update_id = f.u;
    e->bbo = BboData{{f.bid_px, f.bid_qty}, {f.ask_px, f.ask_qty}};
    outcome = Outcome::kBbo;
    return DecodeStatus::kOk;
  }
  if (f.type == Type::kOther || f.data_not_object) {
    outcome = Outcome::kSkip;
    return DecodeStatus::kOk;
  }
  if (f.seen & (F::kResult | F::kError)) {
    if (f.seen & F::kError) ++stats_.failed_acks;
    outcome = Outcome::kAck;
    return DecodeStatus::kOk;
  }
  if (f.seen & F::kData) return DecodeStatus::kMissingField;  // wrapper with an empty payload
  return DecodeStatus::kUnknownMessage;
}

}  // namespace shadow
