// BybitPublisher: turns one symbol's MatchingEngine events into the text of the Bybit v5 public
// WebSocket messages a client of the real venue receives (docs/EMBEDDED_EXCHANGE.md, "Bybit
// publisher"):
//
//   orderbook.{depth}.{symbol}  https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook
//     {"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT",
//      "b":[["65114.20","0.010"]],"a":[["65114.30","0"]],"u":7,"seq":42},"cts":1}
//   publicTrade.{symbol}        https://bybit-exchange.github.io/docs/v5/websocket/public/trade
//     {"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT",
//      "S":"Buy","v":"0.001","p":"65114.30","L":"PlusTick","i":"17","BT":false}]}
//
// Book semantics (Bybit's): the stream describes the top `depth` levels per side only. The
// publisher keeps the full L2 book (a FlatBook fed by on_level) and the view it last published;
// flush() diffs the current top `depth` against that view and sends one delta with every level
// that changed, appeared or disappeared *within the top depth*: a level pushed out by a better
// one goes out as size "0", a deeper level that moves up into the top depth goes out as an
// insert. `u` rises by exactly 1 per delta; a flush with no visible change sends nothing.
//
// Numbers: price_decimals / qty_decimals < 0 print canonical decimals (format_fixed: "65114.2",
// like Bybit spot); >= 0 print at least that many decimals, keeping trailing zeros like Bybit
// linear ("65114.20", qty "0.010"). A value finer than that grid still prints exactly (more
// digits), never rounded. A deleted level's size is "0", as Bybit sends it.
//
// Timing: set_time_ms() sets the matching-engine clock (trade "T", book "cts"); flush(ts_ms)
// and snapshot(ts_ms) take the push time ("ts"). `seq` counts engine events (on_level and
// on_trade calls): the cross sequence, increasing.
//
// Contract: after construction, on_level/on_trade/flush/snapshot do not allocate (buffers are
// sized for the worst-case message up front) except inside the FlatBook for levels far from
// the best price (see flat_book.h). Every message handed to the sink is followed by
// kPadding readable zero bytes, so a simdjson decoder can parse it in place.
// Threading: none; owned by the exchange thread, like the engine it listens to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "exchange/matching_engine.h"
#include "sim/flat_book.h"

namespace shadow {

enum class BybitTopic : std::uint8_t { kOrderbook = 0, kPublicTrade = 1 };

// Receives each published message. `text` is valid only during the call.
class BybitMessageSink {
 public:
  virtual ~BybitMessageSink() = default;
  virtual void on_message(BybitTopic topic, std::string_view text) = 0;
};

struct BybitPublisherConfig {
  std::string symbol = "BTCUSDT";  // [A-Za-z0-9_-/], at most 23 characters
  Fixed tick = kFixedScale / 10;  // the engine's price grid (the FlatBook's tick)
  int price_decimals = -1;        // < 0: canonical; else minimum decimals (linear BTCUSDT: 2)
  int qty_decimals = -1;          // < 0: canonical; else minimum decimals (linear BTCUSDT: 3)
  std::size_t depth = 50;         // levels per side (topic orderbook.{depth}); 1..1000
  // Trades grouped into one publicTrade message at most; more within one flush go out as
  // several messages (Bybit splits big batches too). At most kMaxEventsPerMessage (decoder).
  std::size_t max_trades_per_message = 256;
};

class BybitPublisher final : public BookListener {
 public:
  // Zero bytes readable after every message text (simdjson::SIMDJSON_PADDING).
  static constexpr std::size_t kPadding = 64;

  // Throws std::invalid_argument on a bad config. sink may be null (nothing is sent).
  BybitPublisher(const BybitPublisherConfig& cfg, BybitMessageSink* sink);
  BybitPublisher(const BybitPublisher&) = delete;
  BybitPublisher& operator=(const BybitPublisher&) = delete;

  // BookListener: record the change / trade; nothing is sent before flush(), except a
  // publicTrade message when max_trades_per_message trades are pending.
  void on_level(Side side, Fixed px, Fixed qty) override;
  void on_trade(const Trade& trade) override;

  // Matching-engine clock in ms: stamps the following trades ("T") and book changes ("cts").
  void set_time_ms(std::int64_t engine_ms) noexcept { engine_ms_ = engine_ms; }

  // Adopts an engine's current book (attaching to a non-empty engine). Not published yet: the
  // next flush() sends it as a delta. Allocates (cold path).
  void load(const MatchingEngine& engine);

  // Sends the pending trades (publicTrade, grouped) and then one orderbook delta with every
  // visible change since the previous flush. Returns the number of messages sent.
  std::size_t flush(std::int64_t ts_ms);
  // Sends the pending trades only (publicTrade, grouped); the book changes stay pending for the
  // next flush(). Returns the number of messages sent (0 or 1). The venue arrival profile's
  // real-time trades between its 20 ms book pushes.
  std::size_t flush_trades(std::int64_t ts_ms);

  // Text of an orderbook snapshot of the *published* view (top depth levels, u = update_id()):
  // what a newly subscribed client gets first; the next delta (u + 1) applies on top of it.
  // Not sent to the sink. Valid, with kPadding zero bytes after it, until the next snapshot().
  std::string_view snapshot(std::int64_t ts_ms);

  std::uint64_t update_id() const noexcept { return u_; }  // u of the last message (1 at start)
  std::uint64_t seq() const noexcept { return seq_; }
  std::uint64_t deltas_sent() const noexcept { return deltas_sent_; }
  std::uint64_t trade_messages_sent() const noexcept { return trade_messages_sent_; }
  const FlatBook& book() const noexcept { return *book_; }  // the full L2 (published or not)
  const BybitPublisherConfig& config() const noexcept { return cfg_; }

  // Writes `v` with at least `min_decimals` decimals (< 0: canonical, as format_fixed) into
  // buf (kFixedMaxChars bytes); returns the characters written.
  static std::size_t format_decimal(Fixed v, int min_decimals, char* buf) noexcept;

 private:
  struct PendingTrade {
    Fixed px;
    Fixed qty;
    std::uint64_t trade_id;
    std::int64_t t_ms;
    Side aggressor;
    std::uint8_t tick_dir;  // index into the tick-direction names
  };
  struct SideView {
    std::vector<Level> published;  // best first, size <= depth
    std::vector<Level> current;    // scratch for the diff
    bool dirty = false;
  };

  void send_trades(std::int64_t ts_ms);
  // Writes the diff of one side into out, advances the published view; returns levels written.
  std::size_t write_side_diff(Side side, char*& out);
  char* write_book_header(char* p, bool snapshot, std::int64_t ts_ms) const noexcept;
  char* write_level(char* p, Fixed px, Fixed qty) const noexcept;
  void emit(BybitTopic topic, const char* begin, const char* end);

  BybitPublisherConfig cfg_;
  BybitMessageSink* sink_;
  std::unique_ptr<FlatBook> book_;  // ~0.5 MiB: on the heap
  SideView bids_, asks_;
  std::vector<PendingTrade> trades_;  // reserved to max_trades_per_message
  std::vector<char> book_buf_;        // worst-case delta + padding
  std::vector<char> snap_buf_;        // worst-case snapshot + padding
  std::vector<char> trade_buf_;       // worst-case trade message + padding
  std::string book_topic_;            // orderbook.{depth}.{symbol}
  std::string trade_topic_;           // publicTrade.{symbol}
  std::int64_t engine_ms_ = 0;
  std::int64_t book_cts_ = 0;       // engine time of the latest book change
  std::int64_t published_cts_ = 0;  // cts of the published view
  std::uint64_t u_ = 1;  // the empty view at start is update 1; the first delta is u = 2
  std::uint64_t seq_ = 0;
  std::uint64_t published_seq_ = 0;
  std::uint64_t deltas_sent_ = 0;
  std::uint64_t trade_messages_sent_ = 0;
  Fixed last_trade_px_ = 0;
  bool last_move_up_ = true;
};

}  // namespace shadow
