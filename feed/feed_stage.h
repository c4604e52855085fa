// FeedStage: the feed end of the pipeline (DESIGN.md data flow): a live venue (FeedSession) or
// capture files → venue decoder → SequenceGuard → an EventSink: a RingEventSink to the engine
// thread (split layout) or a DirectEventSink that calls the engine on the same thread (fused).
//
// Full ring, a defined and counted policy (split layout):
// - before reading the socket the stage checks the ring has room for a full read
//   (live_headroom events); when not, it leaves the bytes in the kernel (TCP backpressure to the
//   venue) and counts a backpressure wait. A message that still finds the ring full is dropped
//   and counted (ring_drops), never silently;
// - a capture line is decoded only with room for the largest message a decoder may produce
//   (capture_headroom): a capture never loses a message to a full ring, it waits for the engine.
//
// A live venue is a preset (feed/venue_preset.h: URL, topics, heartbeat, topics per
// connection) or a bare URL; symbols beyond one connection's topic limit are split across
// several connections (FeedSessions) polled in turn on this same thread.
//
// A lost connection publishes a kFeedReset event (every book of that connection's symbols is
// invalid until its next snapshot) and re-arms the SequenceGuard; a gap the guard sees asks the
// venue for a fresh snapshot at once: Bybit resubscribes (FeedSession::resync); Binance asks the
// DepthSnapshotFetcher (feed/depth_snapshot_fetcher.h) for a REST snapshot, fetched on its own
// thread while the engine's SyncedBook buffers the deltas. Binance connections ask for every
// symbol's snapshot when they connect; work() hands each snapshot that came back to the decoder
// (lock-free, no allocation) like any message, and the bridging rules do the rest.
//
// Threading: one thread (the feed's, or the fused one) calls work(); done(), error() after
// done(), and the counters may be read from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/event_sink.h"
#include "core/stage_timing.h"
#include "core/symbol_table.h"
#include "core/tsc.h"
#include "feed/capture_decoder.h"
#include "feed/capture_reader.h"
#include "feed/depth_snapshot_fetcher.h"
#include "feed/feed_session.h"
#include "feed/sequence_guard.h"
#include "feed/tls_session.h"
#include "feed/venue_preset.h"

namespace shadow {

struct FeedStageConfig {
  std::string url;                    // live: ws(s)://HOST:PORT/PATH (overrides the preset's)
  std::string preset;                 // live: a venue preset name ("" : `url` alone)
  TlsOptions tls;                     // wss:// and https://: CA file, skip-verify, highest version
  std::string rest_url;               // Binance presets: REST base for snapshots ("" : the preset's)
  DepthSnapshotConfig snapshot;       // Binance presets: limits, backoff (base_url, market,
                                      // symbols, depth and TLS are filled from the preset)
  std::vector<std::string> captures;  // played in order
  double replay_speed = 0;            // × the recorded pace; 0: as fast as possible
  // The decoder. Unset: from the URL (live; Bybit when it does not say) or from the first
  // capture line (detect_protocol, feed/capture_decoder.h).
  std::optional<FeedVenue> venue;
  std::vector<std::string> symbols;   // live: subscribed (book and trades)
  // Live: the socket reader only peeks its completion queue (no syscall, never sleeps) and the
  // thread's idle strategy does the waiting; false: it waits in io_uring_enter (up to 1 ms) when
  // nothing came, and each wake-up is a voluntary context switch of the hot thread.
  bool busy_poll = false;
  std::size_t live_headroom = 1024;   // split: free ring slots needed before reading the socket
  std::size_t capture_headroom = 511; // split: free ring slots needed before decoding a line
  std::atomic<std::uint64_t>* reconnects = nullptr;  // bumped at each lost connection (progress)
  // Live give-up policy (FeedSessionConfig): consecutive failed connects, and time without a
  // working connection; 0 = no limit. When it gives up the feed is done() with venue_gave_up().
  std::uint64_t connect_attempts = 0;
  std::int64_t give_up_ns = 0;
};

// The EventSink of the fused layout: a message's events are collected in a buffer sized for the
// largest message, then handed to `consumer.on_event(const MarketEvent&)` one by one on publish,
// on this thread (no ring, no copy beyond the decoder's own writes).
template <class Consumer>
class DirectEventSink {
 public:
  explicit DirectEventSink(Consumer& consumer) : consumer_(&consumer), buf_(kMaxEventsPerMessage) {}
  MarketEvent* claim() noexcept { return claimed_ < buf_.size() ? &buf_[claimed_++] : nullptr; }
  void publish() noexcept {
    for (std::size_t i = 0; i < claimed_; ++i) consumer_->on_event(buf_[i]);
    claimed_ = 0;
  }
  void abort() noexcept { claimed_ = 0; }

 private:
  Consumer* consumer_;
  std::size_t claimed_ = 0;
  std::vector<MarketEvent> buf_;
};

// What does not depend on the sink: sources, decoders, counters (feed_stage.cc).
class FeedStageBase {
 public:
  FeedStageBase(const FeedStageBase&) = delete;
  FeedStageBase& operator=(const FeedStageBase&) = delete;

  // The feed ended (capture played, venue given up, stop): no more events will come.
  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  // Why it ended badly (empty when it did not); read after done().
  const std::string& error() const noexcept { return error_; }
  // The error is the capture's fault (bad input: cannot open, not a regular file, another
  // compression, truncated/corrupt gzip, mostly undecodable, see CaptureTally); read after done().
  bool input_error() const noexcept { return input_error_; }
  // The live venue was given up on (the give-up policy ended it, not a stop); after done().
  bool venue_gave_up() const noexcept { return venue_gave_up_; }
  // Messages a decoder rejected (any thread).
  const std::atomic<std::uint64_t>& decode_errors() const noexcept { return decode_errors_; }
  std::uint64_t backpressure_waits() const noexcept { return backpressure_waits_; }
  // The live sessions (one per connection), empty when playing captures.
  const std::vector<std::unique_ptr<FeedSession>>& sessions() const noexcept { return sessions_; }
  // Asks every live session to close (stop()).
  void stop_sessions(std::int64_t grace_ns) noexcept;
  // The Binance REST snapshot fetcher, null for other venues.
  const DepthSnapshotFetcher* snapshots() const noexcept { return snapshots_.get(); }

 protected:
  // `stop`: set by another thread to end the feed (the session closes cleanly).
  FeedStageBase(FeedStageConfig cfg, SymbolTable& symbols, const std::atomic<bool>& stop);
  ~FeedStageBase();

  // The stop flag was seen: the session starts its close and the feed is done.
  bool stopping() noexcept;
  // Next capture line into line_ (opening the next file when one ends). False when none is
  // left: done() is then true, with error() when a file failed.
  bool next_line() noexcept;
  // Replay pace: false while `line_` is not due yet at monotonic time `mono`.
  bool line_due(std::int64_t mono) noexcept;
  void count_decode(DecodeStatus st) noexcept {
    if (is_error(st)) decode_errors_.store(decode_errors_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    tally_.count(st);
  }
  // Reports a session event of connection `conn` on stderr; kGaveUp ends the feed.
  void log_session(const SessionEvent& e, std::size_t conn);
  // The kFeedReset event of a lost connection for `symbol` (kAllSymbols: every one), `now_mono`
  // its receive time.
  void fill_feed_reset(MarketEvent& e, std::uint16_t symbol, std::int64_t now_mono) const noexcept;
  // A gap in `symbol`'s book: the session that carries it asks for a fresh snapshot (Binance:
  // the REST fetcher).
  void resync(std::string_view symbol) noexcept;
  // Connection `conn` is up: a Binance one asks for its symbols' REST snapshots.
  void request_snapshots(std::size_t conn) noexcept;
  void start_snapshots();  // Binance presets: the REST fetcher and its worker thread
  void finish() noexcept { done_.store(true, std::memory_order_release); }

  FeedStageConfig cfg_;
  const std::atomic<bool>& stop_;
  SymbolTable& symbols_;
  CaptureDecoder decoders_;
  Protocol protocol_ = Protocol::kAuto;  // kAuto until the URL, the config or a first line says
  SequenceGuard guard_;
  FeedVenue venue_ = FeedVenue::kBybit;
  std::vector<std::unique_ptr<FeedSession>> sessions_;
  std::vector<std::vector<std::uint16_t>> conn_symbols_;  // symbol ids each connection carries
  std::vector<std::vector<std::uint32_t>> conn_index_;    // their indexes in cfg_.symbols
  std::unique_ptr<DepthSnapshotFetcher> snapshots_;
  std::int64_t realtime_offset_ns_ = 0;  // CLOCK_REALTIME − CLOCK_MONOTONIC at start

  std::unique_ptr<CaptureReader> reader_;
  std::size_t next_capture_ = 0;
  CaptureLine line_;
  bool have_line_ = false;
  std::int64_t replay_first_ns_ = 0, replay_start_mono_ = 0;

  std::atomic<std::uint64_t> decode_errors_{0};
  std::uint64_t backpressure_waits_ = 0;
  std::atomic<bool> done_{false};
  std::string error_;  // written before done_
  bool input_error_ = false;  // written before done_
  CaptureTally tally_;        // the current capture file's lines (live: unused)
  bool venue_gave_up_ = false;  // written before done_
};

template <EventSink Out>
class FeedStage final : public FeedStageBase {
 public:
  // `out` must outlive the stage; nothing else may write into it. Throws std::invalid_argument
  // on a bad venue URL.
  FeedStage(FeedStageConfig cfg, SymbolTable& symbols, Out& out, const std::atomic<bool>& stop)
      : FeedStageBase(std::move(cfg), symbols, stop), sink_{this, &out, nullptr, nullptr, {}} {}

  // One step: a socket poll or up to 64 capture lines. Returns the work done (0: idle).
  int work() noexcept {
    if (done_.load(std::memory_order_relaxed)) return 0;
    if (stopping()) return 0;
    if (!room_for(cfg_.live_headroom)) {
      ++backpressure_waits_;  // leave the bytes in the socket: TCP pushes back on the venue
      return 0;
    }
    if (!sessions_.empty()) {
      int n = 0;
      for (std::size_t i = 0; i < sessions_.size() && !done_.load(std::memory_order_relaxed); ++i) {
        SessionHandler h{this, i};
        n += sessions_[i]->poll(h);
      }
      if (snapshots_) n += take_snapshots();
      return n;
    }
    return replay_work();
  }

  // Messages dropped because the ring was full (a RingEventSink's refused claims).
  std::uint64_t ring_drops() const noexcept {
    if constexpr (requires { sink_.out->full_drops(); }) return sink_.out->full_drops();
    else return 0;
  }

  void on_message(const WsClientMessage& m) noexcept {
    if (m.op != WsOpcode::kText) return;
    sink_.stamps = m.stamps;
    decode(m.data, m.len, m.capacity, m.recv_mono_ns + realtime_offset_ns_, m.recv_mono_ns);
  }

 private:
  // The FeedSession handler of connection `conn`.
  struct SessionHandler {
    FeedStage* stage;
    std::size_t conn;
    void on_message(const WsClientMessage& m) noexcept { stage->on_message(m); }
    void on_session(const SessionEvent& e) {
      if (e.kind == SessionEventKind::kDisconnected) stage->publish_feed_reset(e.now_ns, conn);
      stage->log_session(e, conn);
      if (e.kind == SessionEventKind::kConnected) stage->request_snapshots(conn);
    }
  };

  // Binance REST snapshots that came back: decoded as the symbol's kBookSnapshot, through the
  // guard (which arms the symbol's bridging), into the same sink as the stream's messages.
  // A snapshot is taken only with room for the largest message in the ring (split layout): a
  // snapshot lost to a full ring would leave the book buffering with no gap to ask for another.
  int take_snapshots() noexcept {
    int n = 0;
    while (room_for(cfg_.capture_headroom)) {
      const DepthSnapshot* s = snapshots_->take();
      if (s == nullptr) break;
      decoders_.set_binance_snapshot_symbol(cfg_.symbols[s->symbol_index]);
      count_decode(decoders_.decode(Protocol::kBinance, s->data, s->size, s->capacity,
                                    s->recv_mono_ns + realtime_offset_ns_, s->recv_mono_ns, sink_));
      snapshots_->release(s);
      ++n;
    }
    return n;
  }

  // The decoders' sink: every message's first event passes the SequenceGuard before `out`
  // publishes it. A sampled message's first and last events carry the feed's stage stamps
  // (core/stage_timing.h): the first for the engine's start, the last for its decision.
  struct GuardedSink {
    FeedStage* stage;
    Out* out;
    MarketEvent* first = nullptr;
    MarketEvent* last = nullptr;
    FeedStamps stamps;  // of the message being decoded (unsampled: deframed_tsc == 0)
    MarketEvent* claim() noexcept {
      MarketEvent* e = out->claim();
      if (first == nullptr) first = e;
      last = e;
      return e;
    }
    void publish() noexcept {
      if (first != nullptr) {
        if (stamps.sampled()) {
          const std::uint64_t decoded = tsc_now();
          stamp_feed_stages(*first, stamps, decoded);
          if (last != first) stamp_feed_stages(*last, stamps, decoded);
        }
        if (stage->guard_.check(*first)) stage->resync(stage->symbols_.name(first->symbol));
      }
      first = last = nullptr;
      stamps = FeedStamps{};
      out->publish();
    }
    void abort() noexcept {
      first = last = nullptr;
      stamps = FeedStamps{};
      out->abort();
    }
  };

  // Free ring slots for `n` more events (always true without a ring).
  bool room_for(std::size_t n) noexcept {
    if constexpr (requires { sink_.out->ring(); }) return sink_.out->ring().claim(n) != nullptr;
    else return true;
  }

  int replay_work() noexcept {
    int n = 0;
    for (int i = 0; i < 64; ++i) {
      if (!have_line_ && !next_line()) return n;
      const std::int64_t mono = monotonic_ns();
      if (!line_due(mono)) return n;
      if (!room_for(cfg_.capture_headroom)) {
        ++backpressure_waits_;
        return n;
      }
      if (stage_sampled(replayed_++)) {
        const std::uint64_t t = tsc_now();  // a capture line: no completion, no frame
        sink_.stamps = FeedStamps{t, t, t};
      }
      decode(line_.data, line_.len, line_.capacity, line_.local_ns, mono);
      have_line_ = false;
      ++n;
    }
    return n;
  }

  // Out of line: the perf gate (perf/check_instructions.py) counts a message's whole hot path
  // (fused layout: decode through the engine's decision and records) as the calls of this one.
  [[gnu::noinline]] void decode(const char* data, std::size_t len, std::size_t cap, std::int64_t local_ns,
                                std::int64_t mono) noexcept {
    count_decode(decoders_.decode(protocol_, data, len, cap, local_ns, mono, sink_));
    sink_.stamps = FeedStamps{};  // a message that published nothing (an ack) leaves none behind
  }

  // One connection is down: its symbols' books are invalid (all of them with one connection).
  void publish_feed_reset(std::int64_t now_mono, std::size_t conn) noexcept {
    if (sessions_.size() == 1) {
      reset_one(kAllSymbols, now_mono);
      guard_.reset();
      return;
    }
    for (std::uint16_t id : conn_symbols_[conn]) {
      reset_one(id, now_mono);
      guard_.reset(id);
    }
  }
  void reset_one(std::uint16_t symbol, std::int64_t now_mono) noexcept {
    MarketEvent* e = sink_.out->claim();  // not through the guard: a reset opens no gap
    if (e == nullptr) {
      sink_.out->abort();  // counted by the sink as a full drop
      return;
    }
    fill_feed_reset(*e, symbol, now_mono);
    sink_.out->publish();
  }

  GuardedSink sink_;
  std::uint64_t replayed_ = 0;  // capture lines decoded (stage sampling)
};

}  // namespace shadow
