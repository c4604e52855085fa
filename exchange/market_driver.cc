#include "exchange/market_driver.h"

#include <algorithm>
#include <string>

#include "core/clock.h"
#include "exchange/sandbox_venue.h"

namespace shadow {
namespace {

std::int64_t wall_ms() noexcept { return realtime_ns() / 1'000'000; }

// Market `index` of all (linear first, then spot) is the `slot`-th of its category: the i-th
// spot market starts at the i-th linear one's price level (BTCUSDT spot near BTCUSDT linear)
// but has its own flow (seed).
OrderFlowConfig flow_config(std::size_t index, std::size_t slot, std::uint64_t seed) {
  OrderFlowConfig c;
  c.seed = seed + index;
  // Distinct, plausible price levels per symbol (the market shape is the model's default).
  static constexpr std::int64_t kStart[] = {65'000, 3'000, 150, 600, 25};
  c.start_price = kStart[slot % 5] * kFixedScale;
  return c;
}

BybitPublisherConfig publisher_config(const std::string& symbol, Category category) {
  BybitPublisherConfig c;
  c.symbol = symbol;
  const bool spot = category == Category::kSpot;
  c.price_decimals = spot ? -1 : 2;  // Bybit linear: "65114.20", qty "0.010"; spot: "65140", "0.01"
  c.qty_decimals = spot ? -1 : 3;
  c.depth = 50;
  return c;
}

// "BTCUSDT" -> BTC / USDT; a symbol without a known quote coin is quoted in USDT.
void split_coins(const std::string& symbol, std::string& base, std::string& quote) {
  for (const char* q : {"USDT", "USDC", "BTC", "ETH", "EUR"}) {
    const std::size_t n = std::char_traits<char>::length(q);
    if (symbol.size() > n && symbol.compare(symbol.size() - n, n, q) == 0) {
      base = symbol.substr(0, symbol.size() - n);
      quote = q;
      return;
    }
  }
  base = symbol;
  quote = "USDT";
}

}  // namespace

// One symbol: engine, model, publisher; the publisher's messages go back to the driver.
struct MarketDriver::Market : BybitMessageSink {
  Market(MarketDriver* d, std::size_t i, std::size_t slot_, const std::string& sym, Category cat, std::uint64_t seed)
      : driver(d), index(i), slot(slot_), symbol(sym), category(cat), engine(MatchingEngine::Config{}),
        model(flow_config(i, slot_, seed)), publisher(publisher_config(sym, cat), this) {
    engine.set_listener(&publisher);
  }
  void on_message(BybitTopic topic, std::string_view text) override {
    driver->on_message(index, topic, text);
  }

  MarketDriver* driver;
  std::size_t index;
  std::size_t slot;
  std::string symbol;
  Category category;
  MatchingEngine engine;
  OrderFlowModel model;
  BybitPublisher publisher;
};

MarketDriver::MarketDriver(const ExchangeOptions& opt, MarketFanout& fanout)
    : opt_(opt), fanout_(fanout), ns_per_event_(1e9 / opt.rate),
      max_batch_(std::max<std::uint64_t>(64, static_cast<std::uint64_t>(opt.rate / 50))) {
  const std::size_t total = opt.symbols.size() + opt.spot_symbols.size();
  for (std::size_t i = 0; i < total; ++i) {
    const bool spot = i >= opt.symbols.size();
    const std::string& symbol = spot ? opt.spot_symbols[i - opt.symbols.size()] : opt.symbols[i];
    const std::size_t slot = spot ? i - opt.symbols.size() : i;
    markets_.push_back(
        std::make_unique<Market>(this, i, slot, symbol, spot ? Category::kSpot : Category::kLinear, opt.seed));
    Market& m = *markets_.back();
    m.publisher.set_time_ms(wall_ms());
    m.model.seed_book(m.engine);
    m.publisher.flush(wall_ms());  // nobody subscribed yet: establishes the published view
  }
  const double per_symbol = 5000.0 * static_cast<double>(std::max<std::size_t>(1, markets_.size()));
  switch (opt.profile) {
    case ArrivalProfile::kPaced:
      flush_every_ = opt.batch != 0
                         ? opt.batch
                         : std::max<std::size_t>(1, static_cast<std::size_t>(opt.rate / per_symbol));
      break;
    case ArrivalProfile::kBurst:
      flush_every_ = opt.batch != 0 ? opt.batch : 1;
      ns_per_tick_ = opt.burst_interval_ms * 1e6;
      break;
    case ArrivalProfile::kVenue:
      flush_every_ = 0;  // not used: the book goes out at the ticks, trades at once
      ns_per_tick_ = kVenueBookIntervalMs * 1e6;
      break;
  }
}

MarketDriver::~MarketDriver() = default;

void MarketDriver::on_message(std::size_t market, BybitTopic topic, std::string_view text) {
  const std::uint8_t bit =
      topic == BybitTopic::kOrderbook ? ClientSession::kBookBit : ClientSession::kTradeBit;
  fanout_.publish(market, bit, text, current_intended_ns_, markets_[market]->publisher.update_id());
}

void MarketDriver::flush_now() {
  current_intended_ns_ = monotonic_ns();  // not a scheduled event: sent as soon as it happened
  // venue: the book changes of sandbox orders wait for the next tick, like the model's.
  if (opt_.profile == ArrivalProfile::kVenue) flush_trades(wall_ms());
  else flush_markets(wall_ms());
}

void MarketDriver::flush_markets(std::int64_t ms) {
  for (auto& mk : markets_) mk->publisher.flush(ms);
  since_flush_ = 0;
}

void MarketDriver::flush_trades(std::int64_t ms) {
  for (auto& mk : markets_) mk->publisher.flush_trades(ms);
}

std::int64_t MarketDriver::next_due_ns() const noexcept {
  switch (opt_.profile) {
    case ArrivalProfile::kPaced:
      break;
    case ArrivalProfile::kBurst:
      return tick_ns(ticks_done_ + 1);
    case ArrivalProfile::kVenue:
      return std::min(intended_ns(events_done_ + 1), tick_ns(ticks_done_ + 1));
  }
  return intended_ns(events_done_ + 1);
}

void MarketDriver::step(std::int64_t ms) {
  Market& m = *markets_[events_done_ % markets_.size()];
  m.publisher.set_time_ms(ms);
  m.model.step(m.engine);
  if (venue_ != nullptr) venue_->settle(ms);
  ++events_done_;
}

void MarketDriver::advance(std::int64_t now) {
  switch (opt_.profile) {
    case ArrivalProfile::kPaced:
      advance_paced(now);
      break;
    case ArrivalProfile::kBurst:
      advance_burst(now);
      break;
    case ArrivalProfile::kVenue:
      advance_venue(now);
      break;
  }
}

void MarketDriver::advance_paced(std::int64_t now) {
  const auto due = static_cast<std::uint64_t>(static_cast<double>(now - start_ns_) / ns_per_event_);
  // Bounded catch-up per loop turn so the sockets stay served; the schedule keeps its origin,
  // so a slow turn (or a stall) is made up by later ones instead of shifting every later event.
  std::uint64_t backlog = due > events_done_ ? std::min(due - events_done_, max_batch_) : 0;
  if (backlog == 0) return;
  const std::int64_t ms = wall_ms();
  while (backlog-- > 0) {
    step(ms);
    if (++since_flush_ >= flush_every_) {
      current_intended_ns_ = intended_ns(events_done_);
      flush_markets(ms);
      if (fanout_.stall_requested()) break;  // the N-th message is out: nothing more until the stall ends
    }
  }
  // The automatic rule also publishes the turn's remainder; --batch N waits for N events.
  if (opt_.batch == 0 && since_flush_ != 0) {
    current_intended_ns_ = intended_ns(events_done_);
    flush_markets(ms);
  }
}

// One tick per call: its events back to back, every message stamped with the tick's time. A
// stall fault in the middle leaves the tick open; the next call finishes it.
void MarketDriver::advance_burst(std::int64_t now) {
  const std::int64_t tick = tick_ns(ticks_done_ + 1);
  if (now < tick) return;
  const auto due = static_cast<std::uint64_t>(static_cast<double>(tick - start_ns_) / ns_per_event_);
  const std::int64_t ms = wall_ms();
  current_intended_ns_ = tick;
  while (events_done_ < due) {
    step(ms);
    if (++since_flush_ >= flush_every_) {
      flush_markets(ms);
      if (fanout_.stall_requested()) return;
    }
  }
  if (since_flush_ != 0) flush_markets(ms);  // the tick's remainder (--batch N)
  ++ticks_done_;
}

// Events and ticks in time order (an event due at a tick's time runs before the tick's push).
void MarketDriver::advance_venue(std::int64_t now) {
  const std::int64_t ms = wall_ms();
  for (std::uint64_t n = 0; n < max_batch_; ++n) {
    const std::int64_t event = intended_ns(events_done_ + 1);
    const std::int64_t tick = tick_ns(ticks_done_ + 1);
    if (std::min(event, tick) > now) return;
    if (event <= tick) {
      step(ms);
      current_intended_ns_ = event;
      flush_trades(ms);
    } else {
      current_intended_ns_ = tick;
      flush_markets(ms);
      ++ticks_done_;
    }
    if (fanout_.stall_requested()) return;
  }
}

std::size_t MarketDriver::find(std::string_view symbol, Category category) const noexcept {
  for (std::size_t i = 0; i < markets_.size(); ++i)
    if (markets_[i]->symbol == symbol && markets_[i]->category == category) return i;
  return markets_.size();
}

std::vector<SandboxMarket> MarketDriver::sandbox_markets() {
  std::vector<SandboxMarket> out;
  for (auto& m : markets_) {
    SandboxMarket s;
    SandboxInstrument& ins = s.instrument;
    ins.category = m->category;
    ins.symbol = m->symbol;
    split_coins(m->symbol, ins.base_coin, ins.quote_coin);
    const OrderFlowConfig flow = flow_config(m->index, m->slot, opt_.seed);
    ins.tick = flow.tick;
    ins.qty_step = flow.lot;
    ins.min_qty = flow.lot;
    ins.price_decimals = m->category == Category::kSpot ? -1 : 2;
    ins.qty_decimals = m->category == Category::kSpot ? -1 : 3;
    ins.id = static_cast<int>(m->index) + 1;
    // riskParameters' priceLimitRatioY of Bybit's BTCUSDT: 2% linear, 1% spot.
    ins.price_band = m->category == Category::kSpot ? kFixedScale / 100 : kFixedScale / 50;
    s.engine = &m->engine;
    s.publisher = &m->publisher;
    out.push_back(std::move(s));
  }
  return out;
}

void MarketDriver::attach(SandboxVenue& venue) {
  venue_ = &venue;
  for (std::size_t i = 0; i < markets_.size(); ++i) {
    markets_[i]->engine.set_listener(venue.tap(i, &markets_[i]->publisher));
  }
}

// A new book subscriber gets the published view; the next delta (u + 1) follows it. It is
// market data like the deltas (faults apply; logged with the request's time).
void MarketDriver::send_snapshot(ClientSession& c, std::size_t market) {
  Market& m = *markets_[market];
  const std::int64_t requested = fanout_.send_log() != nullptr ? monotonic_ns() : 0;
  const std::string_view snap = m.publisher.snapshot(wall_ms());
  fanout_.send_snapshot(c, market, snap, requested, m.publisher.update_id());
}

void MarketDriver::flush_pending() {
  // paced with the automatic rule leaves nothing over; burst only inside a stalled tick.
  if (opt_.profile == ArrivalProfile::kVenue) {
    current_intended_ns_ = monotonic_ns();  // off the tick: sent when asked for
    flush_markets(wall_ms());
    return;
  }
  if (since_flush_ == 0) return;
  if (opt_.profile == ArrivalProfile::kPaced) current_intended_ns_ = intended_ns(events_done_);
  flush_markets(wall_ms());
}

// Deltas are flushed before requests are read, so the engine's book equals the published view.
std::string MarketDriver::dump_l2(std::size_t market) const {
  const Market& m = *markets_[market];
  std::string r = "{\"op\":\"dump_l2\",\"success\":true,\"symbol\":\"" + m.symbol +
                  "\",\"u\":" + std::to_string(m.publisher.update_id()) +
                  ",\"seq\":" + std::to_string(m.publisher.seq()) + ",\"data\":{";
  Level levels[50];
  char buf[kFixedMaxChars];
  for (int s = 0; s < 2; ++s) {
    const Side side = s == 0 ? Side::kBuy : Side::kSell;
    r += s == 0 ? "\"b\":[" : ",\"a\":[";
    const std::size_t n = m.engine.top(side, 50, levels);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) r += ',';
      r += "[\"";
      r.append(buf, BybitPublisher::format_decimal(levels[i].px, 2, buf));
      r += "\",\"";
      r.append(buf, BybitPublisher::format_decimal(levels[i].qty, 3, buf));
      r += "\"]";
    }
    r += ']';
  }
  r += "}}";
  return r;
}

}  // namespace shadow
