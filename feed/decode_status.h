// DecodeStatus and DecoderStats: what a venue decoder (BybitDecoder, BinanceDecoder) reports.
//
// Every decode() call returns one DecodeStatus and counts itself in the decoder's DecoderStats.
// Statuses after kSkipped are errors: the decoder aborted every event it had claimed for the
// message, so the consumer never sees a message half-applied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shadow {

enum class DecodeStatus : std::uint8_t {
  kOk = 0,           // events published
  kSkipped,          // recognised, no events: ack, pong, a topic/stream the decoder ignores
  kMalformedJson,    // not JSON (truncated, garbage, too deep, too big, trailing content)
  kMissingField,     // a field the message type requires is absent
  kBadValue,         // a field has the wrong type, or a number/decimal/side that does not parse
  kUnknownMessage,   // valid JSON the decoder does not recognise
  kSymbolTableFull,  // the symbol is new and the SymbolTable is full (or the name too long)
  kSinkFull,         // the sink returned nullptr from claim(), or the message has too many events
};
inline constexpr std::size_t kDecodeStatusCount = 8;

// "ok", "skipped", "malformed_json", ... (stable names for logs and metrics labels).
std::string_view to_string(DecodeStatus s) noexcept;

inline constexpr bool is_error(DecodeStatus s) noexcept {
  return static_cast<std::uint8_t>(s) > static_cast<std::uint8_t>(DecodeStatus::kSkipped);
}

// Counters of one decoder. Message counters count decode() calls by outcome; `trades` counts
// individual trades (a Bybit publicTrade message may carry many), `events` the MarketEvents
// published. Plain integers: a decoder belongs to one thread; read them from that thread or
// after it stopped.
struct DecoderStats {
  std::uint64_t messages = 0;        // decode() calls, whatever the outcome
  std::uint64_t book_snapshots = 0;  // snapshot messages published (Bybit snapshot/u==1, REST)
  std::uint64_t book_deltas = 0;     // delta messages published (Bybit delta, depthUpdate)
  std::uint64_t trades = 0;          // individual trades published
  std::uint64_t trade_messages = 0;  // messages that carried trades
  std::uint64_t bbo = 0;             // best bid/offer messages published (bookTicker)
  std::uint64_t acks = 0;            // subscription acks / command responses (kSkipped)
  std::uint64_t pongs = 0;           // pong replies (kSkipped)
  std::uint64_t skipped_topics = 0;  // other topics/streams (kSkipped)
  std::uint64_t errors = 0;          // error statuses, all kinds
  std::uint64_t errors_by_status[kDecodeStatusCount] = {};  // indexed by DecodeStatus
  std::uint64_t failed_acks = 0;     // acks with success:false / error responses (also in acks)
  std::uint64_t events = 0;          // MarketEvents published
  std::uint64_t levels = 0;          // book levels published
  std::uint64_t bytes = 0;           // input bytes of all decode() calls
  // Values no venue can send, dropped from messages that were otherwise published (levels and
  // trades; messages with an error count only as errors). invalid_price: price <= 0;
  // invalid_qty: book quantity < 0 (0 deletes a level) or trade quantity <= 0. A level or
  // trade is counted once, under its price first. feed/README.md "Invalid values".
  std::uint64_t invalid_price = 0;
  std::uint64_t invalid_qty = 0;

  std::uint64_t errors_of(DecodeStatus s) const noexcept {
    return errors_by_status[static_cast<std::uint8_t>(s)];
  }
  void count_error(DecodeStatus s) noexcept {
    ++errors;
    ++errors_by_status[static_cast<std::uint8_t>(s)];
  }
};

}  // namespace shadow
