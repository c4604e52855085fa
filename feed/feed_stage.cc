#include "feed/feed_stage.h"

#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "feed/websocket_handshake.h"

namespace shadow {

namespace {

// The session of a live feed: the venue's book and trade topics for every symbol.
FeedSessionConfig session_config(const FeedStageConfig& cfg, FeedVenue& venue) {
  FeedSessionConfig fc;
  fc.url = cfg.url;
  WsUrl u;
  std::string err;
  if (!parse_ws_url(cfg.url, u, err)) throw std::runtime_error("bad venue URL '" + cfg.url + "': " + err);
  if (cfg.venue) venue = *cfg.venue;
  else if (!venue_from_url(u.host, u.resource, venue)) venue = FeedVenue::kBybit;
  fc.venue = venue;
  for (const std::string& s : cfg.symbols) {
    if (venue == FeedVenue::kBybit) {
      fc.topics.push_back("orderbook.50." + s);
      fc.topics.push_back("publicTrade." + s);
    } else {
      std::string lower = s;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      fc.topics.push_back(lower + "@depth@100ms");
      fc.topics.push_back(lower + "@trade");
    }
  }
  fc.reconnect.heartbeat_timeout_ns = 30'000'000'000;
  fc.max_connect_attempts = cfg.connect_attempts;
  fc.give_up_after_ns = cfg.give_up_ns;
  return fc;
}

}  // namespace

FeedStageBase::FeedStageBase(FeedStageConfig cfg, SymbolTable& symbols, const std::atomic<bool>& stop)
    : cfg_(std::move(cfg)), stop_(stop), symbols_(symbols), decoders_(symbols),
      realtime_offset_ns_(realtime_ns() - monotonic_ns()) {
  FeedVenue venue = FeedVenue::kBybit;
  if (!cfg_.url.empty()) {
    session_ = std::make_unique<FeedSession>(session_config(cfg_, venue));
  } else if (cfg_.venue) {
    venue = *cfg_.venue;
  } else {
    return;  // captures: the first line tells
  }
  protocol_ = venue == FeedVenue::kBinance ? Protocol::kBinance : Protocol::kBybit;
}

FeedStageBase::~FeedStageBase() = default;

bool FeedStageBase::stopping() noexcept {
  if (!stop_.load(std::memory_order_acquire)) return false;
  if (session_) session_->stop(500'000'000);
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

void FeedStageBase::log_session(const SessionEvent& e) {
  const std::string_view kind = to_string(e.kind);
  switch (e.kind) {
    case SessionEventKind::kConnected:
      std::fprintf(stderr, "shadow-run: feed connected to %.*s (connection %llu)\n",
                   static_cast<int>(e.detail.size()), e.detail.data(),
                   static_cast<unsigned long long>(e.connection));
      return;
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
        venue_gave_up_ = session_ && session_->gave_up();
        error_ = (venue_gave_up_ ? "venue unreachable: " : "feed gave up: ") + std::string(e.detail);
      }
      finish();
      return;
  }
}

void FeedStageBase::fill_feed_reset(MarketEvent& e, std::int64_t now_mono) const noexcept {
  e = MarketEvent{};
  e.kind = EventKind::kFeedReset;
  e.venue = Venue::kBybit;
  e.symbol = kAllSymbols;
  e.flags = kFirstInMessage | kLastInMessage;
  e.local_ns = now_mono + realtime_offset_ns_;
  e.recv_mono_ns = now_mono;
}

}  // namespace shadow
