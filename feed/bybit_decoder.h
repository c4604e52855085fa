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
#include "feed/internal/decoder_base.h"
#include "feed/internal/json_util.h"

namespace shadow {

class BybitDecoder : public feed_internal::DecoderBase<BybitDecoder> {
 public:
  explicit BybitDecoder(SymbolTable& symbols) noexcept : DecoderBase(symbols) {}

  static constexpr bool kOnePass = false;  // every message through simdjson

 private:
  friend DecoderBase;
  using Outcome = feed_internal::Outcome;
  enum class Topic : std::uint8_t { kNone, kBook, kTrade, kOther };

  template <EventSink S>
  DecodeStatus parse(simdjson::ondemand::document& doc, simdjson::ondemand::object& root,
                     feed_internal::EventWriter<S>& w, feed_internal::MessageHeader& h,
                     Outcome& outcome) noexcept;
  template <EventSink S>
  DecodeStatus read_book(simdjson::ondemand::value& v, feed_internal::EventWriter<S>& w,
                         feed_internal::MessageHeader& h, bool& snapshot_by_u) noexcept;
  template <EventSink S>
  DecodeStatus read_trades(simdjson::ondemand::value& v, feed_internal::EventWriter<S>& w,
                           feed_internal::MessageHeader& h) noexcept;

};

// --- implementation -------------------------------------------------------------------------

template <EventSink S>
DecodeStatus BybitDecoder::parse(simdjson::ondemand::document& doc,
                                 simdjson::ondemand::object& root,
                                 feed_internal::EventWriter<S>& w,
                                 feed_internal::MessageHeader& h, Outcome& outcome) noexcept {
  namespace od = simdjson::ondemand;
  using feed_internal::key_is;
  using feed_internal::raw_string;
  using feed_internal::status_of;

  h.venue = Venue::kBybit;

  Topic topic = Topic::kNone;
  std::string_view type, op, ret_msg;
  bool have_type = false, have_ts = false, have_op = false, have_success = false;
  bool success = true, data_done = false, data_pending = false, snapshot_by_u = false;
  DecodeStatus data_status = DecodeStatus::kOk;

  auto read_data = [&](od::value& v) noexcept {
    data_done = true;
    if (topic == Topic::kBook) {
      data_status = read_book(v, w, h, snapshot_by_u);
    } else if (topic == Topic::kTrade) {
      data_status = read_trades(v, w, h);
    }
  };

  for (auto field_result : root) {
    od::field field;
    if (auto err = std::move(field_result).get(field)) return status_of(err);
    const char* k = field.key().raw();
    od::value& v = field.value();
    if (key_is(k, "topic")) {
      std::string_view t;
      if (!raw_string(v, t)) return DecodeStatus::kBadValue;
      topic = t.starts_with("orderbook.")     ? Topic::kBook
              : t.starts_with("publicTrade.") ? Topic::kTrade
                                              : Topic::kOther;
    } else if (key_is(k, "type")) {
      if (!raw_string(v, type)) return DecodeStatus::kBadValue;
      have_type = true;
    } else if (key_is(k, "ts")) {
      if (auto err = v.get_int64().get(h.exch_ts_ms)) return status_of(err);
      have_ts = true;
    } else if (key_is(k, "cts")) {
      if (auto err = v.get_int64().get(h.txn_ts_ms)) return status_of(err);
    } else if (key_is(k, "data")) {
      if (topic == Topic::kNone) {
        data_pending = true;  // topic comes later: read data in a second pass
      } else {
        read_data(v);
        if (data_status != DecodeStatus::kOk) return data_status;
      }
    } else if (key_is(k, "op")) {
      if (!raw_string(v, op)) return DecodeStatus::kBadValue;
      have_op = true;
    } else if (key_is(k, "ret_msg")) {
      if (!raw_string(v, ret_msg)) return DecodeStatus::kBadValue;
    } else if (key_is(k, "success")) {
      if (auto err = v.get_bool().get(success)) return status_of(err);
      have_success = true;
    }
  }
  if (!root_ends_document(doc)) return DecodeStatus::kMalformedJson;

  if (topic == Topic::kNone) {
    if (op == "pong" || ret_msg == "pong") {
      outcome = Outcome::kPong;
    } else if (have_op || have_success) {
      outcome = Outcome::kAck;
      if (!success) ++stats_.failed_acks;
    } else {
      return DecodeStatus::kUnknownMessage;
    }
    return DecodeStatus::kOk;
  }
  if (topic == Topic::kOther) {
    outcome = Outcome::kSkip;
    return DecodeStatus::kOk;
  }
  if (data_pending && !data_done) {
    doc.rewind();
    if (auto err = doc.get_object().get(root)) return status_of(err);
    for (auto field_result : root) {
      od::field field;
      if (auto err = std::move(field_result).get(field)) return status_of(err);
      if (key_is(field.key().raw(), "data")) {
        read_data(field.value());
        if (data_status != DecodeStatus::kOk) return data_status;
        break;
      }
    }
  }
  if (!data_done || !have_ts) return DecodeStatus::kMissingField;

  if (topic == Topic::kTrade) {
    if (w.size() == 0 && w.any_invalid()) {
      // Every trade was invalid: one event carries the counts (h.symbol: the last trade's).
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
  if (!have_type) return DecodeStatus::kMissingField;
  if (type == "snapshot" || snapshot_by_u) {
    h.kind = EventKind::kBookSnapshot;
    outcome = Outcome::kSnapshot;
  } else if (type == "delta") {
    h.kind = EventKind::kBookDelta;
    outcome = Outcome::kDelta;
  } else {
    return DecodeStatus::kBadValue;
  }
  // A message without levels still yields one event so sequencing sees its update id.
  if (w.size() == 0 && w.add() == nullptr) return DecodeStatus::kSinkFull;
  return DecodeStatus::kOk;
}

template <EventSink S>
DecodeStatus BybitDecoder::read_book(simdjson::ondemand::value& v,
                                     feed_internal::EventWriter<S>& w,
                                     feed_internal::MessageHeader& h,
                                     bool& snapshot_by_u) noexcept {
  namespace od = simdjson::ondemand;
  using feed_internal::key_is;
  using feed_internal::status_of;

  od::object obj;
  if (auto err = v.get_object().get(obj)) return status_of(err);
  enum : unsigned { kS = 1, kB = 2, kA = 4, kU = 8 };
  unsigned seen = 0;
  std::string_view symbol;
  auto read_field = [&](const char* k, od::value& fv) noexcept SHADOW_FEED_INLINE_LAMBDA {
    if (key_is(k, "b")) {
      seen |= kB;
      return feed_internal::read_levels(fv, true, w);
    }
    if (key_is(k, "a")) {
      seen |= kA;
      return feed_internal::read_levels(fv, false, w);
    }
    if (key_is(k, "s")) {
      if (!feed_internal::raw_string(fv, symbol)) return DecodeStatus::kBadValue;
      seen |= kS;
    } else if (key_is(k, "u")) {
      if (auto err = fv.get_uint64().get(h.update_id)) return status_of(err);
      seen |= kU;
    } else if (key_is(k, "seq")) {
      if (auto err = fv.get_uint64().get(h.seq)) return status_of(err);
    }
    return DecodeStatus::kOk;
  };
  if (auto st = feed_internal::for_each_field(obj, read_field); st != DecodeStatus::kOk) return st;
  if (seen != (kS | kB | kA | kU)) return DecodeStatus::kMissingField;
  h.first_update_id = h.update_id;
  snapshot_by_u = h.update_id == 1;
  return symbol_id(Venue::kBybit, symbol, h.symbol);
}

// A trade with a price <= 0 or a size <= 0 is dropped and counted (EventWriter::check_trade);
// the message's other trades are published.
template <EventSink S>
DecodeStatus BybitDecoder::read_trades(simdjson::ondemand::value& v,
                                       feed_internal::EventWriter<S>& w,
                                       feed_internal::MessageHeader& h) noexcept {
  namespace od = simdjson::ondemand;
  using feed_internal::key_is;
  using feed_internal::status_of;

  od::array arr;
  if (auto err = v.get_array().get(arr)) return status_of(err);
  for (auto trade_result : arr) {
    od::object obj;
    if (auto err = trade_result.get_object().get(obj)) return status_of(err);
    TradeData t{};
    std::int64_t txn_ts_ms = 0;
    std::uint64_t seq = 0;
    enum : unsigned { kT = 1, kSym = 2, kSide = 4, kV = 8, kP = 16 };
    unsigned seen = 0;
    std::string_view symbol;
    auto read_field = [&](const char* k, od::value& fv) noexcept SHADOW_FEED_INLINE_LAMBDA {
      if (key_is(k, "p")) {
        if (!feed_internal::decimal(fv, t.px)) return DecodeStatus::kBadValue;
        seen |= kP;
      } else if (key_is(k, "v")) {
        if (!feed_internal::decimal(fv, t.qty)) return DecodeStatus::kBadValue;
        seen |= kV;
      } else if (key_is(k, "S")) {
        std::string_view side;
        if (!feed_internal::raw_string(fv, side)) return DecodeStatus::kBadValue;
        if (side == "Buy") {
          t.aggressor = Side::kBuy;
        } else if (side == "Sell") {
          t.aggressor = Side::kSell;
        } else {
          return DecodeStatus::kBadValue;
        }
        seen |= kSide;
      } else if (key_is(k, "T")) {
        if (auto err = fv.get_int64().get(txn_ts_ms)) return status_of(err);
        seen |= kT;
      } else if (key_is(k, "s")) {
        if (!feed_internal::raw_string(fv, symbol)) return DecodeStatus::kBadValue;
        seen |= kSym;
      } else if (key_is(k, "i")) {
        std::string_view id;
        if (!feed_internal::raw_string(fv, id)) return DecodeStatus::kBadValue;
        if (!feed_internal::numeric_id(id, t.trade_id)) t.trade_id = 0;  // UUIDs: no number
      } else if (key_is(k, "seq")) {
        if (auto err = fv.get_uint64().get(seq)) return status_of(err);
      }
      return DecodeStatus::kOk;
    };
    if (auto st = feed_internal::for_each_field(obj, read_field); st != DecodeStatus::kOk) {
      return st;
    }
    if (seen != (kT | kSym | kSide | kV | kP)) return DecodeStatus::kMissingField;
    std::uint16_t sym;
    if (auto st = symbol_id(Venue::kBybit, symbol, sym); st != DecodeStatus::kOk) return st;
    if (auto st = w.check_trade(t.px, t.qty); st != DecodeStatus::kOk) {
      if (st != DecodeStatus::kSkipped) return st;
      h.symbol = sym;  // for the event that carries the counts if no trade is valid
      h.txn_ts_ms = txn_ts_ms;
      h.seq = seq;
      continue;
    }
    MarketEvent* e = w.add();
    if (e == nullptr) return DecodeStatus::kSinkFull;
    e->txn_ts_ms = txn_ts_ms;
    e->seq = seq;
    e->symbol = sym;
    e->trade = t;
  }
  return DecodeStatus::kOk;
}

}  // namespace shadow
