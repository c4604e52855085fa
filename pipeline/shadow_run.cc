#include "pipeline/shadow_run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/version.h"
#include "feed/binance_decoder.h"
#include "feed/bybit_decoder.h"
#include "feed/capture_reader.h"
#include "feed/feed_session.h"
#include "feed/sequence_guard.h"
#include "feed/websocket_handshake.h"
#include "pipeline/agent_runner.h"
#include "pipeline/replay.h"
#include "pipeline/shadow_engine.h"
#include "ringbuf/spsc_ring.h"
#include "sinks/atomic_file.h"
#include "sinks/prometheus_exporter.h"
#include "sinks/redis_exporter.h"
#include "sinks/run_artifacts.h"

namespace shadow {
namespace {

enum class RecordKind : std::uint8_t { kFill, kOrder, kShadowOrder, kIteration, kEnd };

// One engine → sinks record. Trivially copyable: it lives in ring slots.
struct Record {
  RecordKind kind;
  std::uint32_t index;  // kIteration: pool index of the IterationKpis
  union {
    Fill fill;
    OrderEvent order;
    ShadowOrder shadow_order;
  };
};
static_assert(std::is_trivially_copyable_v<Record>);

constexpr std::size_t kPoolSize = 4;        // IterationKpis objects: one filling, the rest spare
constexpr std::size_t kRecordReserve = 16;  // record slots kept free for iteration records

}  // namespace

std::string make_run_id() {
  const std::int64_t ns = realtime_ns();
  const std::time_t s = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(os_random_seed() & 0xffff));
  return buf;
}

struct ShadowRun::Impl final : EngineOutput {
  Impl(const RunConfig& c, std::string u, std::atomic<bool>& stop, RunProgress& p)
      : cfg(c), url(std::move(u)), stop_flag(stop), progress(p),
        events(c.layout == ThreadLayout::kSplit ? c.event_ring : 64), records(c.record_ring),
        free_ring(kPoolSize * 2) {
    pool.resize(kPoolSize);
    for (auto& it : pool) it.symbols.resize(c.symbols.size());
    // Before any thread starts; from then on only the sinks thread produces into free_ring.
    for (std::uint32_t i = 1; i < kPoolSize; ++i) (void)free_ring.try_push(i);
    // Symbols: ids for every venue code a configured name may arrive under.
    std::vector<std::uint16_t> ids;
    for (const std::string& s : c.symbols) {
      ids.push_back(symbols.find_or_add(Venue::kBybit, s));
    }
    engine = std::make_unique<ShadowEngine>(c.engine, ids, this);
    for (std::size_t i = 0; i < c.symbols.size(); ++i) {
      engine->alias(symbols.find_or_add(Venue::kBinanceSpot, c.symbols[i]), i);
      engine->alias(symbols.find_or_add(Venue::kBinanceFutures, c.symbols[i]), i);
    }
    info.run_id = make_run_id();
    info.config_hash = c.hash;
    info.config_json = c.json;
    info.program_version = program_version();
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    info.host = host;
    info.venue = std::string(to_string(c.venue));
    info.symbols = c.symbols;
    info.iterations_planned = c.iterations;
    info.started_realtime_ns = realtime_ns();
    realtime_offset_ns = realtime_ns() - monotonic_ns();
  }

  // ---- engine side ---------------------------------------------------------------------------

  void on_fill(const Fill& f) noexcept override {
    progress.fills.store(progress.fills.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    Record* r = record_slot();
    if (r == nullptr) {
      ++pool[cur].symbols[slot_of(f.symbol)].sink_drops;
      return;
    }
    r->kind = RecordKind::kFill;
    r->index = iteration;
    r->fill = f;
    records.publish(1);
  }
  void on_order_event(const OrderEvent& e) noexcept override {
    Record* r = record_slot();
    if (r == nullptr) {
      ++pool[cur].symbols[slot_of(e.symbol)].sink_drops;
      return;
    }
    r->kind = RecordKind::kOrder;
    r->index = iteration;
    r->order = e;
    records.publish(1);
  }
  // A slot for a fill or order record, keeping kRecordReserve free for iteration records. Live:
  // nullptr when the sinks are behind (the caller counts a sink drop; the hot path never
  // waits). Replay: waits for the sinks, so a capture's execution log is complete.
  Record* record_slot() noexcept {
    if (records.claim(kRecordReserve) != nullptr) return records.claim(0);
    if (cfg.venue != VenueKind::kReplay) return nullptr;
    while (records.claim(kRecordReserve) == nullptr) std::this_thread::yield();
    return records.claim(0);
  }

  void on_shadow_order(const ShadowOrder& o) noexcept override {
    Record* r = record_slot();
    if (r == nullptr) {
      ++pool[cur].symbols[o.symbol < pool[cur].symbols.size() ? o.symbol : 0].sink_drops;
      return;
    }
    r->kind = RecordKind::kShadowOrder;
    r->index = iteration;
    r->shadow_order = o;
    records.publish(1);
  }

  // A slot for an iteration or end record: the reserve kept free by record_slot() means it is
  // there; should the sinks be that far behind, wait for them (never expected).
  Record* reserved_slot() noexcept {
    Record* r = records.claim(0);
    while (r == nullptr) {
      std::this_thread::yield();
      r = records.claim(0);
    }
    return r;
  }

  std::size_t slot_of(std::uint16_t symbol_id) const noexcept {
    for (std::size_t i = 0; i < cfg.symbols.size(); ++i) {
      if (symbols.name(symbol_id) == cfg.symbols[i]) return i;
    }
    return 0;
  }

  // Every event reaches the engine through here (both layouts).
  void engine_event(const MarketEvent& e) noexcept {
    if (finished) return;
    const std::int64_t t = ShadowEngine::event_time(e);
    if (!clock_started) start_clock(t);
    if (t > last_data_ns) last_data_ns = t;
    engine->on_event(e, pool[cur]);
    ++messages;
    if ((messages & 63) == 0) {
      progress.messages.store(messages, std::memory_order_relaxed);
      progress.position_e8.store(engine->simulator(0).account().position, std::memory_order_relaxed);
    }
    tick_clock(t);
  }

  void start_clock(std::int64_t t) noexcept {
    clock_started = true;
    warmup_end = t + static_cast<std::int64_t>(cfg.warmup_s * 1e9);
    warming = cfg.warmup_s > 0;
    if (!warming) begin_iteration(t, cur);
  }

  void begin_iteration(std::int64_t t, std::uint32_t index) noexcept {
    iteration += 1;
    cur = index;
    IterationKpis& k = pool[cur];
    k.iteration = iteration;
    k.partial = false;
    k.started_realtime_ns = t;
    k.warmup_s = iteration == 1 ? cfg.warmup_s : 0;
    iter_end = t + static_cast<std::int64_t>(cfg.duration_s * 1e9);
    progress.iteration.store(iteration, std::memory_order_relaxed);
  }

  // Iteration boundaries on the run's clock.
  void tick_clock(std::int64_t t) noexcept {
    if (!clock_started || finished) return;
    if (warming) {
      if (t < warmup_end) return;
      // Warm-up over: its numbers are dropped; iteration 1 starts with fresh accumulators.
      std::uint32_t next;
      if (!take_spare(next)) return;
      engine->close_iteration(pool[cur], pool[next]);
      stash = cur;  // the warm-up's accumulators: the engine keeps them as its spare
      warming = false;
      begin_iteration(t, next);
      return;
    }
    if (t >= iter_end) close_current(t, false);
  }

  // A spare IterationKpis from the sinks. Live: never wait — when the sinks still hold every
  // spare (they write one file per iteration, so this means a stuck disk) the iteration goes
  // on and the boundary is tried again at the next event, counted. Replay: wait for the sinks,
  // so iterations are cut where the recorded time says, however fast the capture plays.
  bool take_spare(std::uint32_t& out) noexcept {
    if (stash != kNoSpare) {
      out = stash;
      stash = kNoSpare;
      return true;
    }
    if (free_ring.try_pop(out)) return true;
    ++handoff_waits;
    if (cfg.venue != VenueKind::kReplay) return false;
    while (!free_ring.try_pop(out)) std::this_thread::yield();
    return true;
  }

  // Hands the current iteration to the sinks and opens the next (or finishes the run).
  void close_current(std::int64_t t, bool partial) noexcept {
    std::uint32_t next;
    if (!take_spare(next)) return;
    IterationKpis& k = pool[cur];
    engine->close_iteration(k, pool[next]);
    k.partial = partial;
    k.ended_realtime_ns = t;
    Record* r = reserved_slot();
    r->kind = RecordKind::kIteration;
    r->index = cur;
    records.publish(1);
    if (!partial && iteration >= cfg.iterations) {
      stash = next;
      finish("completed", false);
      return;
    }
    begin_iteration(t, next);
  }

  // Ends the run; with close_open, the open iteration (if one started) goes out as partial.
  void finish(const char* reason, bool close_open) noexcept {
    if (finished) return;
    if (stop_reason.empty()) stop_reason = reason;
    if (close_open && clock_started && !warming && pool[cur].started_realtime_ns != 0) {
      const std::int64_t now = last_event_time();
      IterationKpis& k = pool[cur];
      std::uint32_t spare = cur;
      if (stash != kNoSpare) {
        spare = stash;
      } else {
        while (!free_ring.try_pop(spare)) std::this_thread::yield();  // the run is over: wait
      }
      engine->close_iteration(k, pool[spare]);
      stash = spare;
      k.partial = true;
      k.ended_realtime_ns = now > k.started_realtime_ns ? now : k.started_realtime_ns;
      Record* r = reserved_slot();
      r->kind = RecordKind::kIteration;
      r->index = cur;
      records.publish(1);
    }
    finished = true;
    Record* r = reserved_slot();
    r->kind = RecordKind::kEnd;
    r->index = 0;
    records.publish(1);
    engine_done.store(true, std::memory_order_release);
  }

  std::int64_t last_event_time() const noexcept {
    return cfg.venue == VenueKind::kReplay ? last_data_ns : realtime_ns();
  }

  // Idle work of the engine thread: the wall clock closes iterations of a quiet live feed; the
  // stop flag and the end of the feed end the run.
  void engine_idle() noexcept {
    if (finished) return;
    if (stop_flag.load(std::memory_order_acquire)) {
      finish("signal", true);
      return;
    }
    if (cfg.venue != VenueKind::kReplay) tick_clock(realtime_ns());
    if (feed_done.load(std::memory_order_acquire) && (cfg.layout == ThreadLayout::kFused || events.readable() == 0)) {
      // A capture played to its end completes the run (its last iteration is partial); a live
      // feed that ends is an error.
      finish(feed_error.empty() && cfg.venue == VenueKind::kReplay ? "completed" : "error", true);
    }
  }

  // ---- feed side -----------------------------------------------------------------------------

  // The decoders' EventSink: claimed events go to the ring (split) or a local buffer handed to
  // the engine (fused); the first event of each message passes the SequenceGuard.
  struct FeedSink {
    Impl* im;
    std::size_t claimed = 0;
    std::vector<MarketEvent> local = std::vector<MarketEvent>(kMaxEventsPerMessage);
    MarketEvent* claim() noexcept {
      if (im->cfg.layout == ThreadLayout::kFused) return claimed < local.size() ? &local[claimed++] : nullptr;
      MarketEvent* e = im->events.claim(claimed);
      if (e == nullptr) return nullptr;
      ++claimed;
      return e;
    }
    MarketEvent* at(std::size_t i) noexcept {
      return im->cfg.layout == ThreadLayout::kFused ? &local[i] : im->events.claim(i);
    }
    void publish() noexcept {
      if (claimed == 0) return;
      const MarketEvent& first = *at(0);
      if (im->guard.check(first) && im->session) im->session->resync(im->symbols.name(first.symbol));
      if (im->cfg.layout == ThreadLayout::kFused) {
        for (std::size_t i = 0; i < claimed; ++i) im->engine_event(local[i]);
      } else {
        im->events.publish(claimed);
      }
      claimed = 0;
    }
    void abort() noexcept {
      if (claimed > 0 || im->cfg.layout == ThreadLayout::kSplit) {
        // A full ring or a malformed message: either way the message is not delivered.
      }
      claimed = 0;
    }
  };

  void publish_feed_reset(std::int64_t now_mono) noexcept {
    MarketEvent* e = sink.claim();
    if (e == nullptr) {
      ++ring_drops;
      return;
    }
    *e = MarketEvent{};
    e->kind = EventKind::kFeedReset;
    e->venue = Venue::kBybit;
    e->symbol = kAllSymbols;
    e->flags = kFirstInMessage | kLastInMessage;
    e->local_ns = now_mono + realtime_offset_ns;
    e->recv_mono_ns = now_mono;
    sink.publish();
    guard.reset();
  }

  DecodeStatus decode(const char* data, std::size_t len, std::size_t cap, std::int64_t local_ns,
                      std::int64_t mono) noexcept {
    const DecodeStatus st = protocol == Protocol::kBinance
                                ? binance.decode(data, len, cap, local_ns, mono, sink)
                                : bybit.decode(data, len, cap, local_ns, mono, sink);
    if (st != DecodeStatus::kOk && st != DecodeStatus::kSkipped) {
      decode_errors.store(decode_errors.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      if (sink.claimed == 0 && im_ring_full()) ++ring_drops;
    }
    return st;
  }
  bool im_ring_full() noexcept { return cfg.layout == ThreadLayout::kSplit && events.claim(0) == nullptr; }

  // FeedSession handler.
  void on_message(const WsClientMessage& m) noexcept {
    if (m.op != WsOpcode::kText) return;
    decode(m.data, m.len, m.capacity, m.recv_mono_ns + realtime_offset_ns, m.recv_mono_ns);
  }
  void on_session(const SessionEvent& e) noexcept {
    const std::string_view kind = to_string(e.kind);
    switch (e.kind) {
      case SessionEventKind::kConnected:
        std::fprintf(stderr, "shadow-run: feed connected to %.*s (connection %llu)\n",
                     static_cast<int>(e.detail.size()), e.detail.data(),
                     static_cast<unsigned long long>(e.connection));
        return;
      case SessionEventKind::kDisconnected:
        publish_feed_reset(e.now_ns);
        progress.reconnects.store(progress.reconnects.load(std::memory_order_relaxed) + 1,
                                  std::memory_order_relaxed);
        [[fallthrough]];
      case SessionEventKind::kConnectFailed: {
        const std::string_view why = to_string(e.reason);
        std::fprintf(stderr, "shadow-run: feed %.*s (%.*s): %.*s; retrying in %.3f s\n",
                     static_cast<int>(kind.size()), kind.data(), static_cast<int>(why.size()),
                     why.data(), static_cast<int>(e.detail.size()), e.detail.data(),
                     static_cast<double>(e.retry_in_ns) / 1e9);
        return;
      }
      case SessionEventKind::kGaveUp:
        if (!stop_flag.load(std::memory_order_acquire)) {
          feed_error = "feed gave up: " + std::string(e.detail);
        }
        feed_done.store(true, std::memory_order_release);
        return;
    }
  }

  // One step of the feed: a socket poll or a batch of capture lines. Returns work done.
  int feed_work() noexcept {
    if (feed_done.load(std::memory_order_relaxed)) return 0;
    if (stop_flag.load(std::memory_order_acquire)) {
      if (session) session->stop(500'000'000);
      feed_done.store(true, std::memory_order_release);
      return 0;
    }
    if (cfg.layout == ThreadLayout::kSplit && events.claim(feed_headroom) == nullptr) {
      ++backpressure_waits;  // leave the bytes in the socket: TCP pushes back on the venue
      return 0;
    }
    if (session) return session->poll(*this);
    return replay_work();
  }

  int replay_work() noexcept {
    int done = 0;
    for (int i = 0; i < 64; ++i) {
      if (!have_line) {
        if (!reader || !reader->next(line)) {
          if (reader && !reader->error().empty()) {
            feed_error = reader->error();
            feed_done.store(true, std::memory_order_release);
            return done;
          }
          if (!open_next_capture()) {
            feed_done.store(true, std::memory_order_release);
            return done;
          }
          continue;
        }
        have_line = true;
        if (protocol == Protocol::kAuto) {
          protocol = detect_protocol(std::string_view(line.data, line.len));
        }
      }
      const std::int64_t mono = monotonic_ns();
      if (cfg.replay_speed > 0 && line.local_ns > 0) {
        if (replay_first_ns == 0) replay_first_ns = line.local_ns, replay_start_mono = mono;
        const auto due = replay_start_mono + static_cast<std::int64_t>(
                                                 static_cast<double>(line.local_ns - replay_first_ns) /
                                                 cfg.replay_speed);
        if (mono < due) return done;
      }
      // Room for the largest message a decoder may produce (or the whole ring, when smaller):
      // a capture never loses a message to a full ring, it waits for the engine.
      if (cfg.layout == ThreadLayout::kSplit && events.claim(replay_headroom) == nullptr) {
        ++backpressure_waits;
        return done;
      }
      decode(line.data, line.len, line.capacity, line.local_ns, mono);
      have_line = false;
      ++done;
    }
    return done;
  }

  bool open_next_capture() noexcept {
    if (next_capture >= cfg.replay.size()) return false;
    reader = std::make_unique<CaptureReader>();
    std::string err;
    if (!reader->open(cfg.replay[next_capture++], err)) {
      feed_error = err;
      reader.reset();
      return false;
    }
    return true;
  }

  // ---- sinks side ----------------------------------------------------------------------------

  int sinks_work() {
    int n = 0;
    Record r;
    while (n < 256 && records.try_pop(r)) {
      ++n;
      switch (r.kind) {
        case RecordKind::kFill:
          if (r.index == 0) break;  // warm-up: simulated, but not part of any iteration
          append_fill_jsonl(fills_buf, info, r.index, r.fill);
          ++fills_total;
          if (fills_buf.size() > (1u << 20)) write_fills(false);
          break;
        case RecordKind::kOrder:
          ++order_events;
          break;
        case RecordKind::kShadowOrder:
          if (r.index == 0) break;  // warm-up
          append_shadow_order_jsonl(orders_buf, info, r.index, r.shadow_order);
          if (orders_buf.size() > (1u << 20)) write_jsonl(orders_fd, orders_buf, "shadow_orders.jsonl", false);
          break;
        case RecordKind::kIteration:
          write_iteration(pool[r.index]);
          (void)free_ring.try_push(r.index);
          break;
        case RecordKind::kEnd:
          write_run_summary();
          sinks_done.store(true, std::memory_order_release);
          return n;
      }
    }
    if (n == 0 && redis) {  // idle: the exporter may deliver what an outage held back
      const std::uint64_t before = redis->stats().iterations_exported;
      redis->poll(monotonic_ns());
      if (export_failing && redis->stats().iterations_exported != before) {
        std::fprintf(stderr, "shadow-run: redis export back (%llu reconnects)\n",
                     static_cast<unsigned long long>(redis->stats().reconnects));
        export_failing = false;
      }
    }
    return n;
  }

  void write_jsonl(int fd, std::string& buf, const char* name, bool sync) {
    std::size_t off = 0;
    while (off < buf.size()) {
      const ssize_t w = ::write(fd, buf.data() + off, buf.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(run_dir + "/" + name + ": write: " + std::strerror(errno));
      }
      off += static_cast<std::size_t>(w);
    }
    buf.clear();
    if (sync && ::fdatasync(fd) != 0) {
      throw std::runtime_error(run_dir + "/" + name + ": fdatasync: " + std::strerror(errno));
    }
  }
  void write_fills(bool sync) {
    write_jsonl(fills_fd, fills_buf, "fills.jsonl", sync);
    write_jsonl(orders_fd, orders_buf, "shadow_orders.jsonl", sync);
  }

  void write_iteration(IterationKpis& k) {
    // Feed-level counters belong to the whole feed, and exports that failed since the last
    // iteration to the sinks: both booked on the first symbol (so the totals carry them).
    if (!k.symbols.empty()) {
      const std::uint64_t de = decode_errors.load(std::memory_order_relaxed);
      k.symbols[0].decode_errors += de - decode_errors_booked;
      decode_errors_booked = de;
      k.symbols[0].sink_drops += export_drops_unbooked;
      export_drops_unbooked = 0;
    }
    write_fills(true);
    std::string err;
    const std::string path = run_dir + "/ITER_SUMMARY_" + std::to_string(k.iteration) + ".json";
    std::string json = iter_summary_json(info, k);
    if (!write_file_atomically(path, json, err)) throw std::runtime_error(err);
    if (metrics != nullptr || redis) {
      const IterationExport ex = export_of(info, k, std::move(json));
      if (metrics != nullptr) {
        metrics->on_iteration(ex);
        if (!cfg.metrics_textfile.empty() && !write_textfile(*metrics, cfg.metrics_textfile, err)) {
          std::fprintf(stderr, "shadow-run: metrics textfile: %s\n", err.c_str());
        }
      }
      if (redis && !redis->export_iteration(ex, monotonic_ns())) note_export_failure();
    }
    for (std::size_t i = 0; i < k.symbols.size(); ++i) run_totals[i].merge(k.symbols[i]);
    briefs.push_back(brief_of(k));
    const SymbolKpis t = total_of(k);
    if (t.latency.count() > 0) progress.last_p99_us.store(t.latency.summary_us().p99, std::memory_order_relaxed);
    if (!k.partial) ++completed;
    any_partial = any_partial || k.partial;
  }

  // A Redis export that failed: counted as a sink drop (in the next iteration's summary and in
  // the totals and /metrics), reported once per outage; the exporter retries with backoff on its own.
  void note_export_failure() {
    ++export_drops_unbooked;
    if (metrics != nullptr) metrics->add_sink_drops(1);
    if (!export_failing) {
      std::fprintf(stderr, "shadow-run: redis export failed (retrying with backoff): %s\n",
                   redis->stats().last_error.c_str());
    }
    export_failing = true;
  }

  void write_run_summary() {
    if (redis) redis->flush(monotonic_ns());
    write_fills(true);
    std::string err;
    const std::string json = run_summary_json(info, run_totals, briefs, any_partial || stop_reason != "completed",
                                              stop_reason, realtime_ns());
    if (!write_file_atomically(run_dir + "/SHADOW_RUN_SUMMARY.json", json, err)) throw std::runtime_error(err);
  }

  // ---- state ---------------------------------------------------------------------------------
  const RunConfig& cfg;
  std::string url;
  std::atomic<bool>& stop_flag;
  RunProgress& progress;

  SymbolTable symbols;
  BybitDecoder bybit{symbols};
  BinanceDecoder binance{symbols};
  SpscRing<MarketEvent> events;
  SpscRing<Record> records;
  SpscRing<std::uint32_t> free_ring;
  std::vector<IterationKpis> pool;
  std::unique_ptr<ShadowEngine> engine;
  RunInfo info;
  std::int64_t realtime_offset_ns = 0;

  // feed thread
  FeedSink sink{this};
  SequenceGuard guard;
  std::unique_ptr<FeedSession> session;
  Protocol protocol = Protocol::kAuto;
  std::unique_ptr<CaptureReader> reader;
  std::size_t next_capture = 0;
  CaptureLine line;
  bool have_line = false;
  std::int64_t replay_first_ns = 0, replay_start_mono = 0;
  std::size_t feed_headroom = 1024;   // live: slots free before reading the socket
  std::size_t replay_headroom = 511;  // replay: slots free before decoding a line
  std::atomic<std::uint64_t> decode_errors{0};
  std::uint64_t ring_drops = 0, backpressure_waits = 0;
  std::atomic<bool> feed_done{false};
  std::string feed_error;  // written by the feed thread before feed_done

  // engine thread. The free ring has one producer, the sinks; a spare the engine took and did
  // not use stays in `stash` rather than going back into the ring (SPSC: one producer only).
  static constexpr std::uint32_t kNoSpare = 0xFFFFFFFF;
  std::uint32_t stash = kNoSpare;
  std::uint32_t cur = 0;
  std::uint32_t iteration = 0;
  bool clock_started = false, warming = false, finished = false;
  std::int64_t warmup_end = 0, iter_end = 0, last_data_ns = 0;
  std::uint64_t messages = 0, handoff_waits = 0;
  std::string stop_reason;
  std::atomic<bool> engine_done{false};

  // sinks thread
  std::string run_dir;
  int fills_fd = -1;
  std::string fills_buf;
  int orders_fd = -1;
  std::string orders_buf;
  std::vector<SymbolKpis> run_totals;
  std::vector<IterationBrief> briefs;
  std::uint64_t fills_total = 0, order_events = 0, decode_errors_booked = 0;
  std::uint32_t completed = 0;
  bool any_partial = false;
  MetricsRegistry* metrics = nullptr;      // owned by run(); null when --metrics-addr is off
  std::unique_ptr<RedisExporter> redis;    // null when --redis-url is off
  std::uint64_t export_drops_unbooked = 0;
  bool export_failing = false;
  std::atomic<bool> sinks_done{false};
};

namespace {

struct FeedAgent {
  ShadowRun::Impl* im;
  std::string_view name() const noexcept { return "shadow-feed"; }
  void on_start() {}
  int do_work() { return im->feed_work(); }
  void on_close() {}
};
struct EngineAgent {
  ShadowRun::Impl* im;
  std::string_view name() const noexcept { return "shadow-engine"; }
  void on_start() {}
  int do_work() {
    const std::size_t n = im->events.readable();
    const std::size_t take = n < 256 ? n : 256;
    for (std::size_t i = 0; i < take; ++i) im->engine_event(*im->events.peek(i));
    if (take > 0) im->events.release(take);
    if (take == 0) im->engine_idle();
    return static_cast<int>(take);
  }
  void on_close() {}
};
struct FusedAgent {
  ShadowRun::Impl* im;
  std::string_view name() const noexcept { return "shadow-fused"; }
  void on_start() {}
  int do_work() {
    const int n = im->feed_work();
    if (n == 0) im->engine_idle();
    return n;
  }
  void on_close() {}
};
struct SinksAgent {
  ShadowRun::Impl* im;
  std::string_view name() const noexcept { return "shadow-sinks"; }
  void on_start() {}
  int do_work() { return im->sinks_work(); }
  void on_close() {}
};

}  // namespace

ShadowRun::ShadowRun(const RunConfig& cfg, std::string url) : cfg_(cfg), url_(std::move(url)) {}
ShadowRun::~ShadowRun() = default;

RunResult ShadowRun::run() {
  auto im = std::make_unique<Impl>(cfg_, url_, stop_, progress_);
  RunResult res;
  res.run_id = im->info.run_id;
  // Run directory and the `latest` link.
  std::error_code ec;
  std::filesystem::create_directories(cfg_.out_dir, ec);
  if (ec) throw std::runtime_error(cfg_.out_dir + ": cannot create the artifacts directory: " + ec.message());
  im->run_dir = cfg_.out_dir + "/" + im->info.run_id;
  if (::mkdir(im->run_dir.c_str(), 0755) != 0) {
    throw std::runtime_error(im->run_dir + ": cannot create the run directory: " + std::strerror(errno));
  }
  res.run_dir = im->run_dir;
  std::string err;
  if (!replace_symlink(im->info.run_id, cfg_.out_dir + "/latest", err)) {
    std::fprintf(stderr, "shadow-run: warning: %s\n", err.c_str());
  }
  im->fills_fd = ::open((im->run_dir + "/fills.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (im->fills_fd < 0) throw std::runtime_error(im->run_dir + "/fills.jsonl: cannot create: " + std::strerror(errno));
  im->orders_fd = ::open((im->run_dir + "/shadow_orders.jsonl").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (im->orders_fd < 0) {
    throw std::runtime_error(im->run_dir + "/shadow_orders.jsonl: cannot create: " + std::strerror(errno));
  }
  im->run_totals.resize(cfg_.symbols.size());
  im->feed_headroom = std::min<std::size_t>(cfg_.event_ring / 2, 2048);
  im->replay_headroom = std::min<std::size_t>(kMaxEventsPerMessage, cfg_.event_ring) - 1;

  // The venue.
  if (cfg_.venue == VenueKind::kReplay) {
    if (cfg_.protocol == "bybit") im->protocol = Protocol::kBybit;
    if (cfg_.protocol == "binance") im->protocol = Protocol::kBinance;
  } else {
    FeedSessionConfig fc;
    fc.url = url_;
    WsUrl u;
    if (!parse_ws_url(url_, u, err)) throw std::runtime_error("bad venue URL '" + url_ + "': " + err);
    FeedVenue v = FeedVenue::kBybit;
    if (cfg_.protocol == "binance") v = FeedVenue::kBinance;
    else if (cfg_.protocol == "auto" && !venue_from_url(u.host, u.resource, v)) v = FeedVenue::kBybit;
    fc.venue = v;
    im->protocol = v == FeedVenue::kBybit ? Protocol::kBybit : Protocol::kBinance;
    for (const std::string& s : cfg_.symbols) {
      if (v == FeedVenue::kBybit) {
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
    im->session = std::make_unique<FeedSession>(fc);
  }

  // Exporters, off the hot path (the sink thread drives them).
  std::unique_ptr<MetricsRegistry> registry;
  std::unique_ptr<MetricsServer> server;
  if (!cfg_.metrics_addr.empty() || !cfg_.metrics_textfile.empty()) {
    registry = std::make_unique<MetricsRegistry>();
    registry->set_run(im->info.run_id, im->info.config_hash, im->info.program_version);
    im->metrics = registry.get();
  }
  if (!cfg_.metrics_addr.empty()) {
    server = std::make_unique<MetricsServer>(*registry, cfg_.metrics_addr);
    if (!server->start(err)) throw std::runtime_error("metrics endpoint: " + err);
    const std::string host = cfg_.metrics_addr.substr(0, cfg_.metrics_addr.rfind(':'));
    std::fprintf(stderr, "shadow-run: metrics at http://%s:%d/metrics\n", host.c_str(), server->port());
  }
  if (!cfg_.redis_url.empty()) {
    RedisExporterConfig rc;
    rc.url = cfg_.redis_url;
    rc.channel = cfg_.redis_channel;
    rc.ttl_s = static_cast<int>(cfg_.redis_ttl_s);
    im->redis = std::make_unique<RedisExporter>(rc);
  }

  Impl* p = im.get();
  SinksAgent sinks{p};
  AgentRunner<SinksAgent> sinks_runner(sinks, IdleStrategy(cfg_.sinks_idle), cfg_.sinks_cpu);
  sinks_runner.start();
  std::optional<AgentRunner<FeedAgent>> feed_runner;
  std::optional<AgentRunner<EngineAgent>> engine_runner;
  std::optional<AgentRunner<FusedAgent>> fused_runner;
  FeedAgent feed{p};
  EngineAgent engine{p};
  FusedAgent fused{p};
  if (cfg_.layout == ThreadLayout::kSplit) {
    engine_runner.emplace(engine, IdleStrategy(cfg_.engine_idle), cfg_.engine_cpu);
    feed_runner.emplace(feed, IdleStrategy(cfg_.feed_idle), cfg_.feed_cpu);
    engine_runner->start();
    feed_runner->start();
  } else {
    fused_runner.emplace(fused, IdleStrategy(cfg_.feed_idle), cfg_.feed_cpu);
    fused_runner->start();
  }

  // Main thread: progress once a second; watch for failures.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::int64_t next_progress = monotonic_ns() + 1'000'000'000;
  std::uint64_t last_msgs = 0;
  std::string failure;
  while (!p->sinks_done.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (sinks_runner.failed()) {
      failure = sinks_runner.error();
      break;
    }
    if ((engine_runner && engine_runner->failed()) || (fused_runner && fused_runner->failed()) ||
        (feed_runner && feed_runner->failed())) {
      failure = engine_runner && engine_runner->failed() ? engine_runner->error()
                : fused_runner && fused_runner->failed() ? fused_runner->error()
                                                         : feed_runner->error();
      break;
    }
    const std::int64_t now = monotonic_ns();
    if (now >= next_progress) {
      next_progress = now + 1'000'000'000;
      const std::uint64_t msgs = progress_.messages.load(std::memory_order_relaxed);
      const std::uint32_t it = progress_.iteration.load(std::memory_order_relaxed);
      char line[256];
      std::snprintf(line, sizeof line,
                    "shadow-run: %s %u/%u | %llu msg/s | fills %llu | p99 %.1f us | position %.4f | reconnects %llu",
                    it == 0 ? "warm-up" : "iteration", it, cfg_.iterations,
                    static_cast<unsigned long long>(msgs - last_msgs),
                    static_cast<unsigned long long>(progress_.fills.load(std::memory_order_relaxed)),
                    progress_.last_p99_us.load(std::memory_order_relaxed),
                    static_cast<double>(progress_.position_e8.load(std::memory_order_relaxed)) / 1e8,
                    static_cast<unsigned long long>(progress_.reconnects.load(std::memory_order_relaxed)));
      last_msgs = msgs;
      if (registry) {
        registry->set_live(msgs, progress_.fills.load(std::memory_order_relaxed));
      }
      std::fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", line);
    }
  }
  if (tty) std::fputc('\n', stderr);
  // Shut down: feed first (no new data), then the engine, then the sinks.
  stop_.store(true, std::memory_order_release);
  if (feed_runner) {
    feed_runner->stop();
    feed_runner->join();
  }
  if (!failure.empty()) {
    if (engine_runner) engine_runner->stop();
    if (fused_runner) fused_runner->stop();
  }
  // Let the engine finish (writes the end record) unless it failed.
  const std::int64_t give_up = monotonic_ns() + 5'000'000'000;
  while (failure.empty() && !p->sinks_done.load(std::memory_order_acquire) && monotonic_ns() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (engine_runner) {
    engine_runner->stop();
    engine_runner->join();
  }
  if (fused_runner) {
    fused_runner->stop();
    fused_runner->join();
    if (p->session) p->session->stop(0);
  }
  sinks_runner.stop();
  sinks_runner.join();
  if (server) server->stop();
  if (p->redis) {
    const RedisExporterStats& rs = p->redis->stats();
    std::fprintf(stderr, "shadow-run: redis: %llu iteration(s) exported, %llu keys, %llu published, %llu dropped, %llu reconnects\n",
                 static_cast<unsigned long long>(rs.iterations_exported), static_cast<unsigned long long>(rs.keys_written),
                 static_cast<unsigned long long>(rs.messages_published), static_cast<unsigned long long>(rs.sink_drops),
                 static_cast<unsigned long long>(rs.reconnects));
  }
  ::close(p->fills_fd);
  ::close(p->orders_fd);

  res.iterations_completed = p->completed;
  res.partial = p->any_partial || p->stop_reason != "completed";
  res.stop_reason = p->stop_reason.empty() ? "error" : p->stop_reason;
  res.fills = p->fills_total;
  if (!failure.empty()) {
    res.stop_reason = "error";
    res.error = failure;
  } else if (!p->feed_error.empty()) {
    res.error = p->feed_error;
    if (res.stop_reason != "signal") res.stop_reason = "error";
  }
  if (p->ring_drops > 0 || p->backpressure_waits > 0) {
    std::fprintf(stderr, "shadow-run: feed ring: %llu messages dropped (ring full), %llu backpressure waits\n",
                 static_cast<unsigned long long>(p->ring_drops),
                 static_cast<unsigned long long>(p->backpressure_waits));
  }
  return res;
}

}  // namespace shadow
