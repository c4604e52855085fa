#include "feed/feed_stage.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "feed/websocket_handshake.h"

namespace shadow {

namespace {

// The sessions of a live feed: the venue's book and trade topics for every symbol, split into
// connections by the preset's topic limit (one connection for a bare URL).
std::vector<FeedSessionConfig> session_configs(const FeedStageConfig& cfg, FeedVenue& venue,
                                               std::vector<std::vector<std::string>>& groups) {
  const VenuePreset* preset = nullptr;
  if (!cfg.preset.empty()) {
    preset = find_venue_preset(cfg.preset);
    if (preset == nullptr) throw std::runtime_error("unknown venue preset '" + cfg.preset + "'");
  }
  FeedSessionConfig fc;
  fc.url = !cfg.url.empty() ? cfg.url : preset != nullptr ? std::string(preset->ws_url) : std::string();
  WsUrl u;
  std::string err;
  if (!parse_ws_url(fc.url, u, err)) throw std::runtime_error("bad venue URL '" + fc.url + "': " + err);
  if (preset != nullptr) venue = preset->venue;
  else if (cfg.venue) venue = *cfg.venue;
  else if (!venue_from_url(u.host, u.resource, venue)) venue = FeedVenue::kBybit;
  fc.venue = venue;
  fc.reconnect.heartbeat_timeout_ns = 30'000'000'000;
  fc.max_connect_attempts = cfg.connect_attempts;
  fc.give_up_after_ns = cfg.give_up_ns;
  fc.client.tls = cfg.tls;
  fc.client.reader.busy_poll_cq = cfg.busy_poll;
  // A bare URL: the preset of its family's defaults (Bybit linear depth 50, Binance spot), all
  // symbols on one connection.
  const VenuePreset& p = preset != nullptr ? *preset
                                           : *find_venue_preset(venue == FeedVenue::kBybit ? "bybit-linear" : "binance-spot");
  if (preset != nullptr) {
    groups = split_symbols(p, cfg.symbols);
    fc.ping_interval_ns = p.ping_interval_s * 1'000'000'000;
  } else {
    groups = {cfg.symbols};
  }
  std::vector<FeedSessionConfig> out;
  for (const std::vector<std::string>& g : groups) {
    FeedSessionConfig c = fc;
    for (const std::string& s : g) {
      for (std::string& t : preset_topics(p, s)) c.topics.push_back(std::move(t));
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

FeedStageBase::FeedStageBase(FeedStageConfig cfg, SymbolTable& symbols, const std::atomic<bool>& stop)
    : cfg_(std::move(cfg)), stop_(stop), symbols_(symbols), decoders_(symbols),
      realtime_offset_ns_(realtime_ns() - monotonic_ns()) {
  FeedVenue venue = FeedVenue::kBybit;
  if (!cfg_.url.empty() || !cfg_.preset.empty()) {
    std::vector<std::vector<std::string>> groups;
    for (FeedSessionConfig& c : session_configs(cfg_, venue, groups)) {
      sessions_.push_back(std::make_unique<FeedSession>(std::move(c)));
    }
    // The ids the decoder gives each connection's symbols (a reset names them; the engine maps
    // a symbol's spot and futures ids to the same book).
    const VenuePreset* preset = cfg_.preset.empty() ? nullptr : find_venue_preset(cfg_.preset);
    const Venue code = venue == FeedVenue::kBybit                                   ? Venue::kBybit
                       : preset != nullptr && preset->market == VenueMarket::kUsdm ? Venue::kBinanceFutures
                                                                                    : Venue::kBinanceSpot;
    for (const std::vector<std::string>& g : groups) {
      std::vector<std::uint16_t> ids;
      std::vector<std::uint32_t> index;
      for (const std::string& s : g) {
        ids.push_back(symbols_.find_or_add(code, s));
        index.push_back(static_cast<std::uint32_t>(
            std::find(cfg_.symbols.begin(), cfg_.symbols.end(), s) - cfg_.symbols.begin()));
      }
      conn_symbols_.push_back(std::move(ids));
      conn_index_.push_back(std::move(index));
    }
    start_snapshots();
  } else if (cfg_.venue) {
    venue = *cfg_.venue;
  } else {
    return;  // captures: the first line tells
  }
  venue_ = venue;
  protocol_ = venue == FeedVenue::kBinance ? Protocol::kBinance : Protocol::kBybit;
}

void FeedStageBase::start_snapshots() {
  const VenuePreset* p = cfg_.preset.empty() ? nullptr : find_venue_preset(cfg_.preset);
  if (p == nullptr || p->venue != FeedVenue::kBinance) return;
  DepthSnapshotConfig sc = cfg_.snapshot;
  sc.base_url = cfg_.rest_url.empty() ? std::string(p->rest_url) : cfg_.rest_url;
  sc.market = p->market == VenueMarket::kUsdm ? BinanceMarket::kUsdm : BinanceMarket::kSpot;
  sc.symbols = cfg_.symbols;
  sc.limit = p->depth;
  sc.ca_file = cfg_.tls.ca_file;
  sc.insecure_skip_verify = cfg_.tls.insecure_skip_verify;
  if (std::string why = check(sc); !why.empty()) throw std::runtime_error("depth snapshots: " + why);
  snapshots_ = std::make_unique<DepthSnapshotFetcher>(std::move(sc));
  snapshots_->start();
}

void FeedStageBase::request_snapshots(std::size_t conn) noexcept {
  if (!snapshots_) return;
  for (std::uint32_t i : conn_index_[conn]) snapshots_->request(i);
}

void FeedStageBase::stop_sessions(std::int64_t grace_ns) noexcept {
  for (auto& s : sessions_) s->stop(grace_ns);
}

void FeedStageBase::resync(std::string_view symbol) noexcept {
  if (snapshots_) {  // Binance: a gap (or a snapshot that did not bridge) needs a new snapshot
    for (std::uint32_t i = 0; i < cfg_.symbols.size(); ++i) {
      if (cfg_.symbols[i] == symbol) snapshots_->request(i);
    }
    return;
  }
  for (auto& s : sessions_) {
    if (s->resync(symbol)) return;  // the session that carries the symbol sent the request
  }
}

FeedStageBase::~FeedStageBase() {
  if (!snapshots_) return;
  snapshots_->stop();
  const DepthSnapshotStats st = snapshots_->stats();
  std::fprintf(stderr,
               "shadow-run: depth snapshots: %llu requests, %llu ok, %llu throttled (429), %llu banned (418), "
               "%llu HTTP errors, %llu network, %llu TLS, %llu bad bodies\n",
               static_cast<unsigned long long>(st.requests), static_cast<unsigned long long>(st.ok),
               static_cast<unsigned long long>(st.throttled_429), static_cast<unsigned long long>(st.banned_418),
               static_cast<unsigned long long>(st.http_errors), static_cast<unsigned long long>(st.network_errors),
               static_cast<unsigned long long>(st.tls_errors), static_cast<unsigned long long>(st.bad_bodies));
  const std::string last = snapshots_->last_error();
  if (!last.empty()) std::fprintf(stderr, "shadow-run: depth snapshots: last error: %s\n", last.c_str());
}

bool FeedStageBase::stopping() noexcept {
  if (!stop_.load(std::memory_order_acquire)) return false;
  stop_sessions(500'000'000);
  finish();
  return true;
}

bool FeedStageBase::next_line() noexcept {
  while (!reader_ || !reader_->next(line_)) {
    if (reader_) {
      // The file ended: a read error, or lines that mostly did not decode, end the feed as bad
      // input (or an I/O failure); a capture that is bad input is not a completed replay.
      if (!reader_->error().empty()) {
        error_ = reader_->error();
        input_error_ = reader_->error_kind() == CaptureErrorKind::kBadInput;
      } else if (tally_.mostly_undecodable()) {
        error_ = tally_.message(reader_->path());
        input_error_ = true;
      }
      if (!error_.empty()) {
        finish();
        return false;
      }
    }
    if (next_capture_ >= cfg_.captures.size()) {
      finish();
      return false;
    }
    reader_ = std::make_unique<CaptureReader>();
    tally_ = {};
    std::string err;
    if (!reader_->open(cfg_.captures[next_capture_++], err)) {
      error_ = err;
      input_error_ = reader_->error_kind() == CaptureErrorKind::kBadInput;
      reader_.reset();
      finish();
      return false;
    }
  }
  have_line_ = true;
  if (line_.too_long) {
    std::fprintf(stderr, "shadow-run: %s\n", reader_->too_long_message(line_).c_str());
  } else if (protocol_ == Protocol::kAuto) {
    protocol_ = detect_protocol({line_.data, line_.len});
  }
  return true;
}

bool FeedStageBase::line_due(std::int64_t mono) noexcept {
  if (cfg_.replay_speed <= 0 || line_.local_ns <= 0) return true;
  if (replay_first_ns_ == 0) replay_first_ns_ = line_.local_ns, replay_start_mono_ = mono;
  const auto due = replay_start_mono_ + static_cast<std::int64_t>(
                                            static_cast<double>(line_.local_ns - replay_first_ns_) /
                                            cfg_.replay_speed);
  return mono >= due;
}

void FeedStageBase::log_session(const SessionEvent& e, std::size_t conn) {
  const std::string_view kind = to_string(e.kind);
  switch (e.kind) {
    case SessionEventKind::kConnected: {
      const WsClient& c = sessions_[conn]->client();
      std::fprintf(stderr, "shadow-run: feed connected to %.*s (connection %llu%s%s%s%s)\n",
                   static_cast<int>(e.detail.size()), e.detail.data(),
                   static_cast<unsigned long long>(e.connection), sessions_.size() > 1 ? ", stream " : "",
                   sessions_.size() > 1 ? std::to_string(conn + 1).c_str() : "", c.secure() ? ", " : "",
                   c.secure() ? (std::string(c.tls().version()) + " " + std::string(c.tls().cipher())).c_str() : "");
      return;
    }
    case SessionEventKind::kDisconnected:
      if (cfg_.reconnects != nullptr) {
        cfg_.reconnects->store(cfg_.reconnects->load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
      [[fallthrough]];
    case SessionEventKind::kConnectFailed: {
      const std::string_view why = to_string(e.reason);
      if (e.retry_in_ns == 0) {  // the last attempt: kGaveUp follows
        std::fprintf(stderr, "shadow-run: feed %.*s (%.*s): %.*s\n", static_cast<int>(kind.size()), kind.data(),
                     static_cast<int>(why.size()), why.data(), static_cast<int>(e.detail.size()), e.detail.data());
        return;
      }
      std::fprintf(stderr, "shadow-run: feed %.*s (%.*s): %.*s; retrying in %.3f s\n",
                   static_cast<int>(kind.size()), kind.data(), static_cast<int>(why.size()),
                   why.data(), static_cast<int>(e.detail.size()), e.detail.data(),
                   static_cast<double>(e.retry_in_ns) / 1e9);
      return;
    }
    case SessionEventKind::kGaveUp:
      if (!stop_.load(std::memory_order_acquire)) {
        venue_gave_up_ = sessions_[conn]->gave_up();
        error_ = (venue_gave_up_ ? "venue unreachable: " : "feed gave up: ") + std::string(e.detail);
      }
      finish();
      return;
  }
}

void FeedStageBase::fill_feed_reset(MarketEvent& e, std::uint16_t symbol, std::int64_t now_mono) const noexcept {
  e = MarketEvent{};
  e.kind = EventKind::kFeedReset;
  e.venue = Venue::kBybit;
  e.symbol = symbol;
  e.flags = kFirstInMessage | kLastInMessage;
  e.local_ns = now_mono + realtime_offset_ns_;
  e.recv_mono_ns = now_mono;
}

}  // namespace shadow
