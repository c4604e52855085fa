// FeedSession against tools/shadow-exchange: reconnect, resubscribe and resync under the
// exchange's injected faults (docs/EMBEDDED_EXCHANGE.md, "Fault injection"). Every fault the
// exchange reports on its `faults:` exit line must be seen by our side, counted under the right
// reason, and the books must come back in sync. Plus SequenceGuard on hand-made events.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "feed/feed_session.h"
#include "feed/sequence_guard.h"
#include "pipeline/replay.h"
#include "tests/support/exchange_process.h"

namespace {

using namespace shadow;
using test_support::ExchangeProcess;
using test_support::mono_ms;

// ---- SequenceGuard -------------------------------------------------------------------------

MarketEvent book_event(EventKind kind, std::uint64_t u, std::uint16_t symbol = 3) {
  MarketEvent e{};
  e.kind = kind;
  e.venue = Venue::kBybit;
  e.symbol = symbol;
  e.update_id = u;
  e.first_update_id = u;
  e.flags = kFirstInMessage | kLastInMessage;
  return e;
}

TEST(SequenceGuard, DeltasBeforeTheFirstSnapshotAreNotGaps) {
  SequenceGuard g;
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 7)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 9)));
  EXPECT_EQ(g.gaps(), 0u);
}

TEST(SequenceGuard, OneGapPerHoleThenQuietUntilTheNextSnapshot) {
  SequenceGuard g;
  EXPECT_FALSE(g.check(book_event(EventKind::kBookSnapshot, 100)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 101)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 102)));
  EXPECT_TRUE(g.check(book_event(EventKind::kBookDelta, 104)));   // 103 missing
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 105)));  // already reported
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 200)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookSnapshot, 300)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 301)));
  EXPECT_TRUE(g.check(book_event(EventKind::kBookDelta, 301)));   // a repeat is a break too
  EXPECT_EQ(g.gaps(), 2u);
}

TEST(SequenceGuard, SymbolsAreIndependentAndOnlyFirstEventsCount) {
  SequenceGuard g;
  EXPECT_FALSE(g.check(book_event(EventKind::kBookSnapshot, 10, 1)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookSnapshot, 50, 2)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 11, 1)));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 51, 2)));
  MarketEvent cont = book_event(EventKind::kBookDelta, 99, 1);
  cont.flags = kLastInMessage;  // continuation event of a long message: same header, no check
  EXPECT_FALSE(g.check(cont));
  MarketEvent trade = book_event(EventKind::kTrade, 0, 1);
  EXPECT_FALSE(g.check(trade));
  MarketEvent binance = book_event(EventKind::kBookDelta, 500, 3);
  binance.venue = Venue::kBinanceSpot;  // symbol 3 had no snapshot yet: buffered, not a gap
  EXPECT_FALSE(g.check(binance));
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 12, 1)));
  g.reset();
  EXPECT_FALSE(g.check(book_event(EventKind::kBookDelta, 90, 1)));  // disarmed by the reset
  EXPECT_EQ(g.gaps(), 0u);
}

// Binance depth (U = first_update_id, u = update_id, pu = prev_update_id) against the REST
// snapshot's lastUpdateId L, as "How to manage a local order book correctly" says.
MarketEvent binance_event(EventKind kind, Venue v, std::uint64_t first, std::uint64_t u, std::uint64_t pu = 0) {
  MarketEvent e = book_event(kind, u, 4);
  e.venue = v;
  e.first_update_id = first;
  if (v == Venue::kBinanceFutures && kind == EventKind::kBookDelta) {
    e.prev_update_id = pu;
    e.flags |= kHasPrevUpdateId;
  }
  return e;
}

TEST(SequenceGuard, BinanceSpotBridgesStaleEventsThenChains) {
  SequenceGuard g;
  const Venue s = Venue::kBinanceSpot;
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 90, 95)));       // before L: buffered
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookSnapshot, s, 100, 100)));  // L = 100
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 96, 100)));      // u <= L: stale
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 99, 105)));      // U <= 101 <= u: bridge
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 106, 110)));     // U == prev u + 1
  EXPECT_TRUE(g.check(binance_event(EventKind::kBookDelta, s, 112, 115)));      // 111 missing
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 116, 120)));     // quiet until a snapshot
  EXPECT_EQ(g.gaps(), 1u);
}

TEST(SequenceGuard, BinanceStaleSnapshotIsAGapSoAnotherIsFetched) {
  SequenceGuard g;
  const Venue s = Venue::kBinanceSpot;
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookSnapshot, s, 100, 100)));
  // The stream has moved past L + 1: the first event after the snapshot cannot bridge.
  EXPECT_TRUE(g.check(binance_event(EventKind::kBookDelta, s, 150, 160)));
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookSnapshot, s, 170, 170)));  // the next snapshot
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 161, 175)));
  EXPECT_EQ(g.gaps(), 1u);
}

TEST(SequenceGuard, BinanceSnapshotBridgesInsideTheBufferedDeltas) {
  // The deltas keep coming while the REST request is in flight; SyncedBook buffers them and the
  // snapshot bridges inside that buffer: no gap, the next live delta chains.
  SequenceGuard g;
  const Venue s = Venue::kBinanceSpot;
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 90, 95)));
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 96, 104)));
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 105, 110)));
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookSnapshot, s, 100, 100)));  // 101 in [96, 104]
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 111, 120)));
  EXPECT_EQ(g.gaps(), 0u);
  // A snapshot older than everything buffered cannot bridge: a gap, so another is fetched.
  EXPECT_TRUE(g.check(binance_event(EventKind::kBookDelta, s, 300, 310)));  // 121..299 lost: gap
  EXPECT_EQ(g.gaps(), 1u);
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 311, 320)));  // buffered
  EXPECT_TRUE(g.check(binance_event(EventKind::kBookSnapshot, s, 200, 200)));  // stale snapshot
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookSnapshot, s, 315, 315)));  // bridges in [300, 320]
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, s, 321, 330)));
  EXPECT_EQ(g.gaps(), 2u);
}

TEST(SequenceGuard, BinanceFuturesBridgesOnLAndChainsOnPu) {
  SequenceGuard g;
  const Venue f = Venue::kBinanceFutures;
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookSnapshot, f, 100, 100)));
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, f, 90, 99, 89)));    // u < L: stale
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, f, 98, 100, 99)));   // U <= L <= u: bridge
  EXPECT_FALSE(g.check(binance_event(EventKind::kBookDelta, f, 103, 107, 100))); // pu == prev u
  EXPECT_TRUE(g.check(binance_event(EventKind::kBookDelta, f, 110, 112, 108)));  // pu != 107
  EXPECT_EQ(g.gaps(), 1u);
}

TEST(FeedSession, BadUrlIsAClearError) {
  FeedSessionConfig c;
  c.url = "http://127.0.0.1:1/x";
  try {
    FeedSession s(c);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("http://127.0.0.1:1/x"), std::string::npos) << e.what();
  }
}

TEST(FeedSession, SubscribeRequestsFollowTheVenues) {
  EXPECT_EQ(subscribe_request(FeedVenue::kBybit, {"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"}),
            R"({"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT"]})");
  EXPECT_EQ(subscribe_request(FeedVenue::kBybit, {"orderbook.50.BTCUSDT"}, true),
            R"({"op":"unsubscribe","args":["orderbook.50.BTCUSDT"]})");
  EXPECT_EQ(subscribe_request(FeedVenue::kBinance, {"btcusdt@depth@100ms"}),
            R"({"method":"SUBSCRIBE","params":["btcusdt@depth@100ms"],"id":1})");
  FeedVenue v;
  EXPECT_TRUE(venue_from_url("stream.bybit.com", "/v5/public/linear", v));
  EXPECT_EQ(v, FeedVenue::kBybit);
  EXPECT_TRUE(venue_from_url("127.0.0.1", "/stream?streams=btcusdt@trade", v));
  EXPECT_EQ(v, FeedVenue::kBinance);
  EXPECT_FALSE(venue_from_url("127.0.0.1", "/feed", v));
}

// ---- against shadow-exchange ---------------------------------------------------------------

// What the exchange says it injected: its `faults:` exit line.
struct Faults {
  long dropped_deltas = -1, disconnects = -1, stalls = -1, malformed_frames = -1,
       malformed_json = -1, oversized_frames = -1, bad_handshakes = -1;
};

long field(const std::string& text, const std::string& key) {
  const std::size_t at = text.find(" " + key + "=");
  if (at == std::string::npos) return -1;
  return std::strtol(text.c_str() + at + key.size() + 2, nullptr, 10);
}

Faults read_faults(const std::string& err) {
  Faults f;
  const std::size_t at = err.find("faults:");
  if (at == std::string::npos) return f;
  const std::string line = err.substr(at, err.find('\n', at) - at);
  f.dropped_deltas = field(line, "dropped_deltas");
  f.disconnects = field(line, "disconnects");
  f.stalls = field(line, "stalls");
  f.malformed_frames = field(line, "malformed_frames");
  f.malformed_json = field(line, "malformed_json");
  f.oversized_frames = field(line, "oversized_frames");
  f.bad_handshakes = field(line, "bad_handshakes");
  return f;
}

// The live path of shadow-record: every message through the Replayer (BybitDecoder ->
// SyncedBook), a gap answered with resync(), a disconnect invalidating the books.
struct Feed {
  Replayer replayer;
  FeedSession* session = nullptr;
  std::uint64_t messages = 0, decode_errors = 0, resync_requests = 0;
  std::uint64_t connected = 0, disconnected = 0, connect_failed = 0;
  std::vector<std::string> details;  // every disconnect / failure, with its reason

  void on_message(const WsClientMessage& m) {
    ++messages;
    CaptureLine line;
    line.data = m.data;
    line.len = m.len;
    line.capacity = m.capacity;
    line.local_ns = m.recv_mono_ns;
    line.line_no = messages;
    const DecodeStatus st = replayer.on_message(Protocol::kBybit, line);
    if (st != DecodeStatus::kOk && st != DecodeStatus::kSkipped) ++decode_errors;
    if (replayer.gap_symbol() != SymbolTable::kInvalid) {
      if (session->resync(replayer.symbols().name(replayer.gap_symbol()))) ++resync_requests;
    }
  }
  void on_session(const SessionEvent& e) {
    switch (e.kind) {
      case SessionEventKind::kConnected: ++connected; break;
      case SessionEventKind::kDisconnected:
        ++disconnected;
        replayer.invalidate_books();
        details.push_back(std::string(to_string(e.reason)) + ": " + std::string(e.detail));
        break;
      case SessionEventKind::kConnectFailed:
        ++connect_failed;
        details.push_back("connect failed: " + std::string(e.detail));
        break;
      case SessionEventKind::kGaveUp: break;
    }
  }
  bool synced() const {
    for (std::size_t i = 0; i < replayer.book_slots(); ++i) {
      const Replayer::Book* b = replayer.book(static_cast<std::uint16_t>(i));
      if (b != nullptr && !b->synced()) return false;
    }
    return replayer.book_slots() > 0;
  }
};

FeedSessionConfig session_config(const std::string& url) {
  FeedSessionConfig c;
  c.url = url;
  c.venue = FeedVenue::kBybit;
  c.topics = {"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"};
  c.reconnect.min_delay_ns = 10'000'000;   // 10 ms: the test reconnects often
  c.reconnect.max_delay_ns = 80'000'000;
  c.reconnect.seed = 7;
  c.reconnect.heartbeat_timeout_ns = 2'000'000'000;
  return c;
}

template <class F, class Done>
bool pump(FeedSession& s, F& f, std::int64_t deadline_ms, Done done) {
  while (mono_ms() < deadline_ms) {
    s.poll(f);
    if (done()) return true;
  }
  return false;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "\n  " + x;
  return s;
}

// Stops the exchange with SIGTERM and returns what it injected.
Faults stop_and_read(ExchangeProcess& ex) {
  ex.terminate();
  EXPECT_NE(ex.wait(5000), -1) << "shadow-exchange did not exit";
  return read_faults(ex.stderr_text());
}

// The issue's fault test: 10 abrupt disconnects and 10 dropped deltas in one run. Every one is
// detected (10 gaps, 10 lost connections), each answered (10 resubscribes, 10 reconnects), and
// the books end in sync with 20 resyncs (one per gap, one per reconnect; 19 when a cut comes
// while a gap's snapshot is in flight).
// The drops are 1,000 deltas apart (about 50 ms at this rate): a delta dropped while the book
// still waits for the snapshot answering the previous gap is covered by that snapshot and is,
// rightly, no gap. At 90 apart (4.5 ms) a loaded CI host's resubscribe round trip was slower and
// one drop in ten went unseen. The connection is cut every 3,000 messages, so the second drop of
// a connection is still about 1,000 messages before its cut.
TEST(FeedSessionFaults, TenDisconnectsAndTenDroppedDeltas) {
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN,
                     {"--seed", "5", "--rate", "20000", "--symbols", "BTCUSDT",
                      "--drop-delta-every", "1000", "--disconnect-every", "3000", "--faults-max",
                      "10"});
  ASSERT_FALSE(ex.url().empty()) << "no listening line: " << ex.line() << ex.stderr_text();
  FeedSession s(session_config(ex.url()));
  Feed f;
  f.session = &s;
  const bool ok = pump(s, f, mono_ms() + 20000, [&] {
    return s.policy().count(DisconnectReason::kConnectionLost) >= 10 && f.connected >= 11 &&
           f.replayer.book_totals().gaps >= 10 && f.synced() && f.messages > 15000;
  });
  const Faults injected = stop_and_read(ex);
  ASSERT_TRUE(ok) << "connects " << f.connected << ", gaps " << f.replayer.book_totals().gaps
                  << ", messages " << f.messages << join(f.details);
  EXPECT_EQ(injected.dropped_deltas, 10);
  EXPECT_EQ(injected.disconnects, 10);
  const SyncStats b = f.replayer.book_totals();
  EXPECT_EQ(b.gaps, 10u);
  EXPECT_EQ(f.resync_requests, 10u);
  EXPECT_EQ(s.stats().resubscribes, 10u);
  EXPECT_EQ(s.policy().count(DisconnectReason::kConnectionLost), 10u) << join(f.details);
  EXPECT_EQ(s.stats().disconnects, 10u);
  EXPECT_EQ(f.disconnected, 10u);
  EXPECT_EQ(s.stats().connects, 11u);
  EXPECT_EQ(f.replayer.counters().feed_resets, 10u);
  // One resync per reconnect, and one per gap unless the connection was cut while that gap's
  // snapshot was still on its way: the reconnect's snapshot then resyncs both (a loaded host
  // once counted 19). Every gap asked for its snapshot (resync_requests above); most gaps come
  // well before a cut, so at least half of them must have resynced on their own.
  EXPECT_GE(b.resyncs, 15u);
  EXPECT_LE(b.resyncs, 20u);
  EXPECT_EQ(f.decode_errors, 0u);
  EXPECT_TRUE(f.synced());
  for (const auto& d : f.details) EXPECT_NE(d.find("connection lost"), std::string::npos) << d;
}

// Bad frames (RSV1 set), oversized frames (a 64 MiB header against our 1 MiB limit) and bad
// handshakes (wrong Sec-WebSocket-Accept): each is a clear, counted error and a reconnect.
TEST(FeedSessionFaults, BadFramesOversizedFramesAndBadHandshakesReconnect) {
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN,
                     {"--seed", "6", "--rate", "20000", "--symbols", "BTCUSDT",
                      "--malformed-frame-every", "300", "--oversized-frame-every", "700",
                      "--bad-handshake", "2", "--faults-max", "3"});
  ASSERT_FALSE(ex.url().empty()) << "no listening line: " << ex.line() << ex.stderr_text();
  FeedSession s(session_config(ex.url()));
  Feed f;
  f.session = &s;
  // Each connection-fatal fault is one the client sees: the exchange queues nothing behind a
  // malformed or oversized frame (once, a slow ASan client lost the third oversized frame to a
  // connection it had already closed, and waited out the deadline). The loop ends as soon as
  // the condition holds; the deadline is for a slow host.
  const bool ok = pump(s, f, mono_ms() + 30000, [&] {
    return s.policy().count(DisconnectReason::kProtocolError) >= 6 && f.synced() &&
           f.messages > 8000;
  });
  const Faults injected = stop_and_read(ex);
  ASSERT_TRUE(ok) << "protocol errors " << s.policy().count(DisconnectReason::kProtocolError)
                  << join(f.details);
  EXPECT_EQ(injected.malformed_frames, 3);
  EXPECT_EQ(injected.oversized_frames, 3);
  EXPECT_EQ(injected.bad_handshakes, 2);
  EXPECT_EQ(s.policy().count(DisconnectReason::kProtocolError), 6u) << join(f.details);
  EXPECT_EQ(s.stats().connect_failures, 2u);
  EXPECT_EQ(s.policy().count(DisconnectReason::kConnectFailed), 2u);
  EXPECT_EQ(s.stats().connects, 7u);  // 1 + one per protocol error
  int bad_frame = 0, too_big = 0, bad_accept = 0;
  for (const auto& d : f.details) {
    if (d.find("code 1002") != std::string::npos) ++bad_frame;
    if (d.find("code 1009") != std::string::npos) ++too_big;
    if (d.find("Sec-WebSocket-Accept") != std::string::npos) ++bad_accept;
  }
  EXPECT_EQ(bad_frame, 3) << join(f.details);
  EXPECT_EQ(too_big, 3) << join(f.details);
  EXPECT_EQ(bad_accept, 2) << join(f.details);
  EXPECT_TRUE(f.synced());
}

// Truncated JSON in a valid frame is the decoder's business, not the connection's: counted as
// a decode error, the lost delta shows up as a gap and is repaired by a resubscribe.
TEST(FeedSessionFaults, MalformedJsonIsCountedAndTheBookRecovers) {
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN,
                     {"--seed", "8", "--rate", "20000", "--symbols", "BTCUSDT",
                      "--malformed-json-every", "400", "--faults-max", "4"});
  ASSERT_FALSE(ex.url().empty()) << "no listening line: " << ex.line() << ex.stderr_text();
  FeedSession s(session_config(ex.url()));
  Feed f;
  f.session = &s;
  const bool ok = pump(s, f, mono_ms() + 20000, [&] {
    return f.decode_errors >= 4 && f.synced() && f.messages > 2500;
  });
  const Faults injected = stop_and_read(ex);
  ASSERT_TRUE(ok) << "decode errors " << f.decode_errors << join(f.details);
  EXPECT_EQ(injected.malformed_json, 4);
  EXPECT_EQ(f.decode_errors, 4u);
  EXPECT_EQ(s.stats().disconnects, 0u) << join(f.details);
  // A truncated delta is a hole in u (a truncated trade is not): every gap was resynced.
  const SyncStats b = f.replayer.book_totals();
  EXPECT_LE(b.gaps, 4u);
  EXPECT_EQ(b.resyncs, b.gaps);
  EXPECT_EQ(s.stats().resubscribes, b.gaps);
}

// A venue that goes quiet: the heartbeat timeout drops the connection and the session comes
// back when data flows again.
TEST(FeedSessionFaults, StallTriggersTheHeartbeatTimeout) {
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN,
                     {"--seed", "9", "--rate", "5000", "--symbols", "BTCUSDT", "--stall-every",
                      "500", "--stall-ms", "800", "--faults-max", "1"});
  ASSERT_FALSE(ex.url().empty()) << "no listening line: " << ex.line() << ex.stderr_text();
  FeedSessionConfig c = session_config(ex.url());
  c.reconnect.heartbeat_timeout_ns = 300'000'000;
  FeedSession s(c);
  Feed f;
  f.session = &s;
  const bool ok = pump(s, f, mono_ms() + 20000, [&] {
    return s.stats().heartbeat_timeouts >= 1 && f.connected >= 2 && f.synced() &&
           f.messages > 1000;
  });
  const Faults injected = stop_and_read(ex);
  ASSERT_TRUE(ok) << "heartbeat timeouts " << s.stats().heartbeat_timeouts << join(f.details);
  EXPECT_EQ(injected.stalls, 1);
  EXPECT_EQ(s.stats().heartbeat_timeouts, 1u);
  EXPECT_EQ(s.policy().count(DisconnectReason::kHeartbeatTimeout), 1u);
  EXPECT_EQ(f.details.size(), 1u) << join(f.details);
}

// The venue dies (SIGKILL) and comes back on the same port: connect failures are retried with
// backoff, then the session resubscribes and the book is rebuilt from the new snapshot.
TEST(FeedSession, SurvivesTheVenueRestarting) {
  auto ex = std::make_unique<ExchangeProcess>(
      SHADOW_EXCHANGE_BIN, std::vector<std::string>{"--seed", "3", "--rate", "5000"});
  ASSERT_FALSE(ex->url().empty()) << ex->line();
  const std::string url = ex->url();
  const int port = ex->port();
  FeedSession s(session_config(url));
  Feed f;
  f.session = &s;
  ASSERT_TRUE(pump(s, f, mono_ms() + 5000, [&] { return f.synced() && f.messages > 200; }));
  ex->kill_now();
  ASSERT_TRUE(pump(s, f, mono_ms() + 5000, [&] { return f.connect_failed >= 2; }))
      << join(f.details);
  EXPECT_FALSE(f.synced());  // invalidated at the disconnect
  ex = std::make_unique<ExchangeProcess>(
      SHADOW_EXCHANGE_BIN, std::vector<std::string>{"--seed", "3", "--rate", "5000"},
      std::to_string(port));
  ASSERT_EQ(ex->url(), url) << ex->line() << ex->stderr_text();
  const std::uint64_t before = f.messages;
  ASSERT_TRUE(pump(s, f, mono_ms() + 10000,
                   [&] { return f.connected == 2 && f.synced() && f.messages > before + 200; }))
      << join(f.details);
  EXPECT_EQ(s.policy().count(DisconnectReason::kConnectionLost), 1u) << join(f.details);
  EXPECT_GE(s.policy().count(DisconnectReason::kConnectFailed), 2u);
  EXPECT_EQ(f.replayer.book_totals().resyncs, 1u);
  EXPECT_EQ(f.replayer.book_totals().gaps, 0u);
  // Clean stop: close 1000, the exchange echoes it.
  s.stop();
  ASSERT_TRUE(pump(s, f, mono_ms() + 3000, [&] { return s.done(); }));
}

// ---- the give-up policy (issue 11: a dead port retried forever) ----------------------------

// A loopback port nothing listens on: bound, then closed.
int dead_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Counts the session's gave-up events and keeps the last detail.
struct GiveUpFeed : Feed {
  int gave_up = 0;
  std::string why;
  void on_session(const SessionEvent& e) {
    Feed::on_session(e);
    if (e.kind == SessionEventKind::kGaveUp) {
      ++gave_up;
      why = std::string(e.detail);
    }
  }
};

TEST(FeedSessionGiveUp, AfterConsecutiveFailedConnects) {
  FeedSessionConfig c = session_config("ws://127.0.0.1:" + std::to_string(dead_port()) + "/v5/public/linear");
  c.max_connect_attempts = 3;
  FeedSession s(c);
  GiveUpFeed f;
  f.session = &s;
  ASSERT_TRUE(pump(s, f, mono_ms() + 10000, [&] { return s.done(); })) << join(f.details);
  EXPECT_TRUE(s.gave_up());
  EXPECT_EQ(f.gave_up, 1);
  EXPECT_EQ(s.stats().connect_failures, 3u);
  EXPECT_NE(f.why.find("3 connect attempts failed in a row"), std::string::npos) << f.why;
  EXPECT_NE(f.why.find("refused"), std::string::npos) << f.why;
  EXPECT_EQ(s.poll(f), 0);  // over: nothing more is tried
  EXPECT_EQ(s.stats().connect_failures, 3u);
}

TEST(FeedSessionGiveUp, AfterTimeWithoutAWorkingConnection) {
  FeedSessionConfig c = session_config("ws://127.0.0.1:" + std::to_string(dead_port()) + "/v5/public/linear");
  c.max_connect_attempts = 0;          // no attempt limit: only the time bound
  c.give_up_after_ns = 600'000'000;    // 0.6 s
  FeedSession s(c);
  GiveUpFeed f;
  f.session = &s;
  const std::int64_t t0 = mono_ms();
  ASSERT_TRUE(pump(s, f, t0 + 10000, [&] { return s.done(); })) << join(f.details);
  const std::int64_t took = mono_ms() - t0;
  EXPECT_TRUE(s.gave_up());
  EXPECT_GE(took, 600);
  EXPECT_LT(took, 3000);
  EXPECT_GT(s.stats().connect_failures, 3u);  // retried with backoff until the time was up
  EXPECT_NE(f.why.find("no working connection for"), std::string::npos) << f.why;
}

// A venue that was up and then goes away for longer than the limit ends the session too; the
// clock starts when the working connection ends, not at the start.
TEST(FeedSessionGiveUp, WhenAWorkingVenueStaysAway) {
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN, {"--seed", "3", "--rate", "5000"});
  ASSERT_FALSE(ex.url().empty()) << ex.line();
  FeedSessionConfig c = session_config(ex.url());
  c.max_connect_attempts = 0;
  c.give_up_after_ns = 800'000'000;
  FeedSession s(c);
  GiveUpFeed f;
  f.session = &s;
  // Up for longer than the limit: a working connection does not give up.
  ASSERT_TRUE(pump(s, f, mono_ms() + 5000, [&] { return f.messages > 100; }));
  ASSERT_FALSE(pump(s, f, mono_ms() + 1200, [&] { return s.done(); })) << join(f.details);
  ex.kill_now();
  const std::int64_t gone = mono_ms();
  ASSERT_TRUE(pump(s, f, gone + 10000, [&] { return s.done(); })) << join(f.details);
  const std::int64_t took = mono_ms() - gone;
  EXPECT_TRUE(s.gave_up());
  EXPECT_EQ(f.disconnected, 1u);
  // The clock starts when the session sees the connection end, after the kill: the whole
  // 800 ms. (It once started at the receive stamp of the last bytes before the close, which
  // gave up 693 ms after the kill under ASan; had it started at the session's start, over
  // 1.2 s ago, the give-up would have come at once.)
  EXPECT_GE(took, 800);
  EXPECT_LT(took, 4000);
  EXPECT_NE(f.why.find("no working connection"), std::string::npos) << f.why;
}

// stop() is not a give-up.
TEST(FeedSessionGiveUp, AStopIsNotAGiveUp) {
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN, {"--seed", "3", "--rate", "5000"});
  ASSERT_FALSE(ex.url().empty()) << ex.line();
  FeedSession s(session_config(ex.url()));
  GiveUpFeed f;
  f.session = &s;
  ASSERT_TRUE(pump(s, f, mono_ms() + 5000, [&] { return f.messages > 10; }));
  s.stop();
  ASSERT_TRUE(pump(s, f, mono_ms() + 3000, [&] { return s.done(); }));
  EXPECT_FALSE(s.gave_up());
}

}  // namespace
