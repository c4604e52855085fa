#include "exchange/bybit_publisher.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "core/event_sink.h"

namespace shadow {
namespace {

// Bybit's tick directions ("L"), indexed by PendingTrade::tick_dir.
constexpr std::string_view kTickDir[4] = {"PlusTick", "ZeroPlusTick", "MinusTick",
                                          "ZeroMinusTick"};

// Longest integer text (int64/uint64).
constexpr std::size_t kIntChars = 20;

char* put(char* p, std::string_view s) noexcept {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* put_int(char* p, std::int64_t v) noexcept {
  return std::to_chars(p, p + kIntChars + 1, v).ptr;
}

char* put_uint(char* p, std::uint64_t v) noexcept {
  return std::to_chars(p, p + kIntChars, v).ptr;
}

bool symbol_ok(std::string_view s) noexcept {
  if (s.empty() || s.size() > 23) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '/';
  });
}

}  // namespace

std::size_t BybitPublisher::format_decimal(Fixed v, int min_decimals, char* buf) noexcept {
  char* p = buf;
  std::uint64_t mag = static_cast<std::uint64_t>(v);
  if (v < 0) {
    *p++ = '-';
    mag = 0 - mag;  // also right for INT64_MIN
  }
  const std::uint64_t scale = static_cast<std::uint64_t>(kFixedScale);
  std::uint64_t frac = mag % scale;
  p = std::to_chars(p, buf + kFixedMaxChars, mag / scale).ptr;
  const int keep = min_decimals < 0 ? 0 : std::min(min_decimals, kFixedDecimals);
  if (frac == 0 && keep == 0) return static_cast<std::size_t>(p - buf);
  char digits[kFixedDecimals];
  for (int k = kFixedDecimals - 1; k >= 0; --k) {
    digits[k] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  int n = kFixedDecimals;
  while (n > keep && digits[n - 1] == '0') --n;
  *p++ = '.';
  std::memcpy(p, digits, static_cast<std::size_t>(n));
  return static_cast<std::size_t>(p + n - buf);
}

BybitPublisher::BybitPublisher(const BybitPublisherConfig& cfg, BybitMessageSink* sink)
    : cfg_(cfg), sink_(sink) {
  if (!symbol_ok(cfg_.symbol)) throw std::invalid_argument("BybitPublisher: bad symbol");
  if (cfg_.tick <= 0) throw std::invalid_argument("BybitPublisher: tick must be > 0");
  if (cfg_.depth == 0 || cfg_.depth > 1000) {
    throw std::invalid_argument("BybitPublisher: depth must be in 1..1000");
  }
  if (cfg_.max_trades_per_message == 0 || cfg_.max_trades_per_message > kMaxEventsPerMessage) {
    throw std::invalid_argument("BybitPublisher: max_trades_per_message must be in 1..512");
  }
  book_ = std::make_unique<FlatBook>(FlatBook::Config{cfg_.tick});
  for (SideView* s : {&bids_, &asks_}) {
    s->published.reserve(cfg_.depth);
    s->current.resize(cfg_.depth);
  }
  trades_.reserve(cfg_.max_trades_per_message);
  book_topic_ = "orderbook." + std::to_string(cfg_.depth) + "." + cfg_.symbol;
  trade_topic_ = "publicTrade." + cfg_.symbol;

  // Worst cases: a level is ["px","qty"], at most 2 * kFixedMaxChars + 8 bytes. A delta holds
  // at most 2 * depth levels per side (depth removed, depth inserted); a snapshot depth.
  const std::size_t level = 2 * kFixedMaxChars + 8;
  const std::size_t header = 128 + book_topic_.size() + cfg_.symbol.size() + 5 * kIntChars;
  book_buf_.assign(header + 4 * cfg_.depth * level + kPadding, '\0');
  snap_buf_.assign(header + 2 * cfg_.depth * level + kPadding, '\0');
  const std::size_t trade = 96 + cfg_.symbol.size() + 2 * kFixedMaxChars + 2 * kIntChars;
  trade_buf_.assign(64 + trade_topic_.size() + kIntChars +
                        cfg_.max_trades_per_message * trade + kPadding,
                    '\0');
}

void BybitPublisher::on_level(Side side, Fixed px, Fixed qty) {
  ++seq_;
  book_->set(side, px, qty);
  (side == Side::kBuy ? bids_ : asks_).dirty = true;
  book_cts_ = engine_ms_;
}

void BybitPublisher::on_trade(const Trade& t) {
  ++seq_;
  if (trades_.size() == cfg_.max_trades_per_message) send_trades(engine_ms_);
  // Tick direction against the previous trade (Bybit "L"): a move sets the direction, an
  // unchanged price repeats it as Zero*. The first trade counts as ZeroPlusTick.
  std::uint8_t dir;
  if (last_trade_px_ != 0 && t.px != last_trade_px_) {
    last_move_up_ = t.px > last_trade_px_;
    dir = last_move_up_ ? 0 : 2;
  } else {
    dir = last_move_up_ ? 1 : 3;
  }
  last_trade_px_ = t.px;
  trades_.push_back(PendingTrade{t.px, t.qty, t.trade_id, engine_ms_, t.aggressor, dir});
}

void BybitPublisher::load(const MatchingEngine& engine) {
  std::vector<Level> levels;
  book_->clear();
  for (Side s : {Side::kBuy, Side::kSell}) {
    engine.l2(s, levels);
    for (const Level& l : levels) book_->set(s, l.px, l.qty);
    (s == Side::kBuy ? bids_ : asks_).dirty = true;
  }
  book_cts_ = engine_ms_;
}

void BybitPublisher::emit(BybitTopic topic, const char* begin, const char* end) {
  if (sink_ != nullptr) {
    sink_->on_message(topic, std::string_view(begin, static_cast<std::size_t>(end - begin)));
  }
}

void BybitPublisher::send_trades(std::int64_t ts_ms) {
  if (trades_.empty()) return;
  char* const begin = trade_buf_.data();
  char* p = begin;
  p = put(p, R"({"topic":")");
  p = put(p, trade_topic_);
  p = put(p, R"(","type":"snapshot","ts":)");
  p = put_int(p, ts_ms);
  p = put(p, R"(,"data":[)");
  for (std::size_t i = 0; i < trades_.size(); ++i) {
    const PendingTrade& t = trades_[i];
    if (i != 0) *p++ = ',';
    p = put(p, R"({"T":)");
    p = put_int(p, t.t_ms);
    p = put(p, R"(,"s":")");
    p = put(p, cfg_.symbol);
    p = put(p, t.aggressor == Side::kBuy ? R"(","S":"Buy","v":")" : R"(","S":"Sell","v":")");
    p += format_decimal(t.qty, cfg_.qty_decimals, p);
    p = put(p, R"(","p":")");
    p += format_decimal(t.px, cfg_.price_decimals, p);
    p = put(p, R"(","L":")");
    p = put(p, kTickDir[t.tick_dir]);
    p = put(p, R"(","i":")");
    p = put_uint(p, t.trade_id);
    p = put(p, R"(","BT":false})");
  }
  p = put(p, "]}");
  std::memset(p, 0, kPadding);
  trades_.clear();
  ++trade_messages_sent_;
  emit(BybitTopic::kPublicTrade, begin, p);
}

char* BybitPublisher::write_book_header(char* p, bool snapshot, std::int64_t ts_ms) const noexcept {
  p = put(p, R"({"topic":")");
  p = put(p, book_topic_);
  p = put(p, snapshot ? R"(","type":"snapshot","ts":)" : R"(","type":"delta","ts":)");
  p = put_int(p, ts_ms);
  p = put(p, R"(,"data":{"s":")");
  p = put(p, cfg_.symbol);
  return put(p, R"(","b":[)");
}

char* BybitPublisher::write_level(char* p, Fixed px, Fixed qty) const noexcept {
  p = put(p, R"([")");
  p += format_decimal(px, cfg_.price_decimals, p);
  if (qty == 0) return put(p, R"(","0"])");  // Bybit deletes with size "0" on every category
  p = put(p, R"(",")");
  p += format_decimal(qty, cfg_.qty_decimals, p);
  return put(p, R"("])");
}

std::size_t BybitPublisher::write_side_diff(Side side, char*& out) {
  SideView& v = side == Side::kBuy ? bids_ : asks_;
  if (!v.dirty) return 0;
  v.dirty = false;
  const std::size_t n_new = book_->top(side, cfg_.depth, v.current.data());
  const Level* cur = v.current.data();
  const Level* old = v.published.data();
  const std::size_t n_old = v.published.size();
  // Both lists are best first; a price is "better" when it would sort earlier on this side.
  const bool bid = side == Side::kBuy;
  char* p = out;
  std::size_t written = 0;
  auto level = [&](Fixed px, Fixed qty) {
    if (written++ != 0) *p++ = ',';
    p = write_level(p, px, qty);
  };
  std::size_t i = 0, j = 0;
  while (i < n_old || j < n_new) {
    if (i < n_old && j < n_new && old[i].px == cur[j].px) {
      if (old[i].qty != cur[j].qty) level(cur[j].px, cur[j].qty);  // changed
      ++i;
      ++j;
    } else if (i == n_old || (j < n_new && (bid ? cur[j].px > old[i].px : cur[j].px < old[i].px))) {
      level(cur[j].px, cur[j].qty);  // new in the top depth (placed, or moved up into it)
      ++j;
    } else {
      level(old[i].px, 0);  // gone from the top depth (removed, or pushed below it)
      ++i;
    }
  }
  v.published.assign(cur, cur + n_new);  // capacity reserved: no allocation
  out = p;
  return written;
}

std::size_t BybitPublisher::flush_trades(std::int64_t ts_ms) {
  if (trades_.empty()) return 0;
  send_trades(ts_ms);
  return 1;
}

std::size_t BybitPublisher::flush(std::int64_t ts_ms) {
  std::size_t sent = 0;
  if (!trades_.empty()) {
    send_trades(ts_ms);
    ++sent;
  }
  if (!bids_.dirty && !asks_.dirty) return sent;
  char* const begin = book_buf_.data();
  char* p = write_book_header(begin, false, ts_ms);
  std::size_t n = write_side_diff(Side::kBuy, p);
  p = put(p, R"(],"a":[)");
  n += write_side_diff(Side::kSell, p);
  if (n == 0) return sent;  // changes below the top depth only: Bybit sends nothing
  ++u_;
  published_seq_ = seq_;
  published_cts_ = book_cts_;
  p = put(p, R"(],"u":)");
  p = put_uint(p, u_);
  p = put(p, R"(,"seq":)");
  p = put_uint(p, published_seq_);
  p = put(p, R"(},"cts":)");
  p = put_int(p, published_cts_);
  *p++ = '}';
  std::memset(p, 0, kPadding);
  ++deltas_sent_;
  emit(BybitTopic::kOrderbook, begin, p);
  return sent + 1;
}

std::string_view BybitPublisher::snapshot(std::int64_t ts_ms) {
  char* const begin = snap_buf_.data();
  char* p = write_book_header(begin, true, ts_ms);
  bool first = true;
  for (const Level& l : bids_.published) {
    if (!first) *p++ = ',';
    first = false;
    p = write_level(p, l.px, l.qty);
  }
  p = put(p, R"(],"a":[)");
  first = true;
  for (const Level& l : asks_.published) {
    if (!first) *p++ = ',';
    first = false;
    p = write_level(p, l.px, l.qty);
  }
  p = put(p, R"(],"u":)");
  p = put_uint(p, u_);
  p = put(p, R"(,"seq":)");
  p = put_uint(p, published_seq_);
  p = put(p, R"(},"cts":)");
  p = put_int(p, published_cts_);
  *p++ = '}';
  std::memset(p, 0, kPadding);
  return {begin, static_cast<std::size_t>(p - begin)};
}

}  // namespace shadow
