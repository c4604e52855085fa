// Our client against shadow-exchange (the issue's acceptance test): WsClient subscribes to
// orderbook.50 and publicTrade of two symbols, every message goes through the Replayer
// (BybitDecoder -> SyncedBook<FlatBook> per symbol), and at checkpoints the exchange's own L2
// view (the dump_l2 extension, answered in order after every earlier message on the
// connection) must equal our book level for level, with the same update id. Then SIGTERM: the
// exchange exits 0 and our client sees a clean close 1001. The same over wss:// (--tls-cert,
// certificates from tests/support/tls_certs.py) with TLS 1.3 and 1.2.
#include <gtest/gtest.h>

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/fixed_point.h"
#include "core/market_event.h"
#include "feed/ws_client.h"
#include "pipeline/replay.h"
#include "tests/support/exchange_process.h"
#include "tests/support/require.h"
#include "tests/support/tls_cert_dir.h"

namespace {

using namespace shadow;

constexpr std::size_t kDepth = 50;
constexpr int kCheckpointsPerSymbol = 12;
constexpr std::int64_t kCheckpointIntervalMs = 60;

using test_support::ExchangeProcess;
std::int64_t now_ms() { return test_support::mono_ms(); }

struct SymbolState {
  std::string name;
  int checkpoints = 0;         // dump_l2 replies compared
  bool outstanding = false;    // a dump_l2 request is in flight
  std::int64_t next_due_ms = 0;
};

// Feeds every message to the Replayer; dump_l2 replies are compared against our books the
// moment they arrive (everything the exchange published before the reply came first).
struct Client {
  Replayer replayer;
  std::vector<SymbolState> symbols;
  simdjson::dom::parser parser;
  std::uint64_t messages = 0, dumps = 0, levels_compared = 0;
  std::vector<std::string> failures;  // first few mismatches, reported by the test
  bool closed = false;
  WsCloseInfo close;
  std::string close_reason;

  void fail(std::string what) {
    if (failures.size() < 20) failures.push_back(std::move(what));
  }

  void on_message(const WsClientMessage& m) {
    ++messages;
    CaptureLine line;
    line.data = m.data;
    line.len = m.len;
    line.capacity = m.capacity;
    line.local_ns = m.recv_mono_ns;
    line.line_no = messages;
    const DecodeStatus st = replayer.on_message(Protocol::kBybit, line);
    if (st != DecodeStatus::kOk && st != DecodeStatus::kSkipped) {
      fail("decode error " + std::string(to_string(st)) + " on: " +
           std::string(m.view().substr(0, 200)));
    }
    if (m.view().starts_with(R"({"op":"dump_l2")")) check_dump(m.view());
  }

  void on_closed(const WsCloseInfo& c) {
    closed = true;
    close = c;
    close_reason = std::string(c.reason);
  }

  void check_dump(std::string_view text) {
    ++dumps;
    simdjson::dom::element doc;
    if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) {
      fail("dump_l2 reply is not JSON: " + std::string(text.substr(0, 200)));
      return;
    }
    bool success = false;
    std::string_view sym;
    std::uint64_t u = 0;
    simdjson::dom::array bids, asks;
    if (doc["success"].get(success) || !success || doc["symbol"].get(sym) || doc["u"].get(u) ||
        doc["data"]["b"].get(bids) || doc["data"]["a"].get(asks)) {
      fail("unexpected dump_l2 reply: " + std::string(text.substr(0, 200)));
      return;
    }
    SymbolState* s = nullptr;
    for (auto& x : symbols) {
      if (x.name == sym) s = &x;
    }
    if (s == nullptr) {
      fail("dump_l2 reply for an unknown symbol " + std::string(sym));
      return;
    }
    s->outstanding = false;
    ++s->checkpoints;
    const std::string where = s->name + " checkpoint " + std::to_string(s->checkpoints);

    const std::uint16_t id = replayer.symbols().find(Venue::kBybit, sym);
    const Replayer::Book* book = id == SymbolTable::kInvalid ? nullptr : replayer.book(id);
    if (book == nullptr || !book->synced()) {
      fail(where + ": our book is missing or not synced");
      return;
    }
    if (book->last_update_id() != u) {
      fail(where + ": update id: exchange u=" + std::to_string(u) + ", ours " +
           std::to_string(book->last_update_id()));
    }
    for (int side = 0; side < 2; ++side) {
      const simdjson::dom::array& theirs = side == 0 ? bids : asks;
      const Side sd = side == 0 ? Side::kBuy : Side::kSell;
      const char* side_name = side == 0 ? "bids" : "asks";
      Level ours[kDepth];
      const std::size_t n = book->book().top(sd, kDepth, ours);
      std::size_t i = 0;
      for (simdjson::dom::element lv : theirs) {
        std::string_view px_s, qty_s;
        Fixed px = 0, qty = 0;
        if (lv.at(0).get(px_s) || lv.at(1).get(qty_s) || !parse_fixed(px_s, px) ||
            !parse_fixed(qty_s, qty)) {
          fail(where + ": bad level in the exchange's " + side_name);
          return;
        }
        if (i >= n) {
          fail(where + ": " + side_name + ": exchange has level " + std::to_string(i) + " " +
               std::string(px_s) + " x " + std::string(qty_s) + ", our book has only " +
               std::to_string(n) + " levels");
          return;
        }
        if (ours[i].px != px || ours[i].qty != qty) {
          char a[kFixedMaxChars], b[kFixedMaxChars];
          fail(where + ": " + side_name + " level " + std::to_string(i) + ": exchange " +
               std::string(px_s) + " x " + std::string(qty_s) + ", ours " +
               std::string(to_chars_fixed(ours[i].px, a)) + " x " +
               std::string(to_chars_fixed(ours[i].qty, b)));
          return;
        }
        ++i;
        ++levels_compared;
      }
      if (i != n) {
        fail(where + ": " + side_name + ": exchange has " + std::to_string(i) +
             " levels, ours " + std::to_string(n));
      }
      if (i == 0) fail(where + ": " + side_name + ": the exchange's book side is empty");
    }
  }
};

// Polls until `done()` or the deadline; returns false on timeout.
template <class Done>
bool pump(WsClient& c, Client& h, std::int64_t deadline, Done done) {
  while (c.is_open() && !done()) {
    if (now_ms() >= deadline) return false;
    c.poll(h);
  }
  return done();
}

// The whole acceptance run against shadow-exchange started with `extra` flags; `ready`: what
// its ready line must say; `tls_version`: the negotiated TLS version ("" over ws://).
void expect_books_equal_the_exchanges_view(const std::vector<std::string>& extra,
                                           const WsClientOptions& wo, const std::string& ready,
                                           const std::string& tls_version) {
  std::vector<std::string> args = {"--seed", "11", "--rate", "5000", "--symbols", "BTCUSDT,ETHUSDT"};
  args.insert(args.end(), extra.begin(), extra.end());
  ExchangeProcess ex(SHADOW_EXCHANGE_BIN, args);
  ASSERT_FALSE(ex.url().empty()) << "shadow-exchange printed no URL: '" << ex.line() << "' "
                                 << ex.error() << "\n" << ex.stderr_text();
  EXPECT_NE(ex.line().find("listening on " + ready), std::string::npos) << ex.line();

  WsClient ws(wo);
  std::string err;
  ASSERT_TRUE(ws.connect(ex.url(), err)) << ex.url() << ": " << err;
  EXPECT_EQ(ws.secure(), !tls_version.empty());
  if (!tls_version.empty()) {
    EXPECT_EQ(ws.tls().version(), tls_version);
  }
  ASSERT_TRUE(ws.send_text(
      R"({"op":"subscribe","args":["orderbook.50.BTCUSDT","publicTrade.BTCUSDT",)"
      R"("orderbook.50.ETHUSDT","publicTrade.ETHUSDT"]})"));

  Client h;
  for (const char* s : {"BTCUSDT", "ETHUSDT"}) h.symbols.push_back(SymbolState{s, 0, false, 0});

  auto synced = [&](const std::string& sym) {
    const std::uint16_t id = h.replayer.symbols().find(Venue::kBybit, sym);
    const Replayer::Book* b = id == SymbolTable::kInvalid ? nullptr : h.replayer.book(id);
    return b != nullptr && b->synced();
  };
  const std::int64_t start = now_ms();
  ASSERT_TRUE(pump(ws, h, start + 3000, [&] { return synced("BTCUSDT") && synced("ETHUSDT"); }))
      << "books not synced after 3 s (messages " << h.messages << ")";

  // Checkpoints: per symbol one dump_l2 in flight at a time, a new one every interval.
  auto all_done = [&] {
    for (const auto& s : h.symbols) {
      if (s.checkpoints < kCheckpointsPerSymbol) return false;
    }
    return true;
  };
  const std::int64_t deadline = now_ms() + 3500;
  while (ws.is_open() && !all_done() && now_ms() < deadline) {
    const std::int64_t t = now_ms();
    for (auto& s : h.symbols) {
      if (s.outstanding || s.checkpoints >= kCheckpointsPerSymbol || t < s.next_due_ms) continue;
      ASSERT_TRUE(ws.send_text(R"({"op":"dump_l2","args":[")" + s.name + R"("]})"));
      s.outstanding = true;
      s.next_due_ms = t + kCheckpointIntervalMs;
    }
    ws.poll(h);
  }
  for (const auto& s : h.symbols) {
    EXPECT_GE(s.checkpoints, kCheckpointsPerSymbol) << s.name << ": too few checkpoints";
  }
  for (const auto& f : h.failures) ADD_FAILURE() << f;
  EXPECT_GE(h.levels_compared, 2u * kCheckpointsPerSymbol * h.symbols.size());
  std::printf("exchange_client_test: %llu messages, %llu dump_l2 checkpoints, %llu levels compared, "
              "%llu trades\n",
              static_cast<unsigned long long>(h.messages), static_cast<unsigned long long>(h.dumps),
              static_cast<unsigned long long>(h.levels_compared),
              static_cast<unsigned long long>(h.replayer.counters().trades));

  // Counters: everything decoded, no gaps, trades arrived, both books still synced.
  const ReplayCounters& rc = h.replayer.counters();
  EXPECT_EQ(rc.decode_errors, 0u);
  EXPECT_EQ(h.replayer.bybit_stats().errors, 0u);
  EXPECT_EQ(h.replayer.bybit_stats().failed_acks, 0u);
  EXPECT_GT(rc.trades, 0u);
  EXPECT_GT(rc.book_messages, 0u);
  for (const auto& s : h.symbols) {
    const std::uint16_t id = h.replayer.symbols().find(Venue::kBybit, s.name);
    ASSERT_NE(id, SymbolTable::kInvalid) << s.name;
    const Replayer::Book* b = h.replayer.book(id);
    ASSERT_NE(b, nullptr) << s.name;
    EXPECT_TRUE(b->synced()) << s.name;
    EXPECT_EQ(b->stats().gaps, 0u) << s.name;
    EXPECT_EQ(b->stats().resyncs, 0u) << s.name;
    EXPECT_EQ(b->stats().skipped_unsynced, 0u) << s.name;
    EXPECT_EQ(b->stats().crossed, 0u) << s.name;
    EXPECT_EQ(b->stats().snapshots, 1u) << s.name;
  }
  EXPECT_EQ(h.replayer.book_totals().gaps, 0u);

  // Clean stop: SIGTERM -> close 1001 to us, exit status 0.
  ASSERT_TRUE(ex.terminate());
  EXPECT_TRUE(pump(ws, h, now_ms() + 3000, [&] { return h.closed; })) << "no close after SIGTERM";
  EXPECT_TRUE(h.closed);
  EXPECT_EQ(h.close.kind, WsCloseKind::kClean) << to_string(h.close.kind) << ": " << h.close_reason;
  EXPECT_EQ(h.close.code, 1001) << h.close_reason;
  const int st = ex.wait(3000);
  ASSERT_NE(st, -1) << "shadow-exchange did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(st)) << "wait status " << st;
  EXPECT_EQ(WEXITSTATUS(st), 0);
  EXPECT_LT(now_ms() - start, 5000) << "slower than the test's budget";
}

TEST(ExchangeClientTest, BooksEqualTheExchangesL2ViewAtCheckpoints) {
  expect_books_equal_the_exchanges_view({}, WsClientOptions{}, "ws://127.0.0.1:", "");
}

// shadow-exchange --tls-cert/--tls-key: the same run over wss://, our client verifying the
// certificate against the test CA and the host name localhost; TLS 1.3, and 1.2 when the
// client caps it (the server offers both).
class ExchangeClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    dir_ = test_support::tls_cert_dir(why);
    if (dir_.empty()) SHADOW_MISSING(why);
  }
  std::vector<std::string> serve() const {
    return {"--tls-cert", dir_ + "/localhost.pem", "--tls-key", dir_ + "/localhost.key"};
  }
  WsClientOptions trusting(int max_version) const {
    WsClientOptions o;
    o.tls.ca_file = dir_ + "/ca.pem";
    o.tls.max_version = max_version;
    return o;
  }
  std::string dir_;
};

TEST_F(ExchangeClientTlsTest, OverTls13BooksEqualTheExchangesL2View) {
  expect_books_equal_the_exchanges_view(serve(), trusting(13), "wss://localhost:", "TLSv1.3");
}

TEST_F(ExchangeClientTlsTest, OverTls12BooksEqualTheExchangesL2View) {
  expect_books_equal_the_exchanges_view(serve(), trusting(12), "wss://localhost:", "TLSv1.2");
}

}  // namespace
