// BybitDecoder on hand-written Bybit v5 messages: every field and message type, field orders
// of spot and linear, multi-event splitting, the u == 1 rule, skips and each error class.
#include "feed/bybit_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/feed/decoder_fixture.h"
#include "tests/fuzz/decoder_test_support.h"

namespace shadow {
namespace {

using testing::VectorSink;

using BybitDecoderTest = testing::DecoderFixture<BybitDecoder>;

constexpr std::string_view kLinearSnapshot =
    R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304484978,)"
    R"("data":{"s":"BTCUSDT","b":[["16493.50","0.006"],["16493.00","0.100"]],)"
    R"("a":[["16611.00","0.029"],["16612.00","0.213"]],"u":18521288,"seq":7961638724},)"
    R"("cts":1672304484976})";

TEST_F(BybitDecoderTest, LinearSnapshotFillsEveryField) {
  ASSERT_EQ(decode(kLinearSnapshot, 5, 6), DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  const MarketEvent& e = sink_.events[0];
  EXPECT_EQ(e.kind, EventKind::kBookSnapshot);
  EXPECT_EQ(e.venue, Venue::kBybit);
  EXPECT_EQ(e.local_ns, 5);
  EXPECT_EQ(e.recv_mono_ns, 6);
  EXPECT_EQ(e.exch_ts_ms, 1672304484978);
  EXPECT_EQ(e.txn_ts_ms, 1672304484976);
  EXPECT_EQ(e.first_update_id, 18521288u);
  EXPECT_EQ(e.update_id, 18521288u);
  EXPECT_EQ(e.prev_update_id, 0u);
  EXPECT_EQ(e.seq, 7961638724u);
  EXPECT_EQ(e.msg_seq, 1u);
  EXPECT_EQ(symbols_.name(e.symbol), "BTCUSDT");
  EXPECT_EQ(symbols_.venue(e.symbol), Venue::kBybit);
  EXPECT_EQ(e.flags, kFirstInMessage | kLastInMessage);
  ASSERT_EQ(e.n_bids, 2);
  ASSERT_EQ(e.n_asks, 2);
  EXPECT_EQ(e.bids()[0].px, fx("16493.5"));
  EXPECT_EQ(e.bids()[0].qty, fx("0.006"));
  EXPECT_EQ(e.bids()[1].px, fx("16493"));
  EXPECT_EQ(e.asks()[0].px, fx("16611"));
  EXPECT_EQ(e.asks()[1].qty, fx("0.213"));
  EXPECT_EQ(dec_.stats().book_snapshots, 1u);
  EXPECT_EQ(dec_.stats().levels, 4u);
}

TEST_F(BybitDecoderTest, SpotOrderWithoutCtsAndTrailingZerosGiveEqualFixedValues) {
  // Spot puts ts before type, drops trailing zeros and has no cts.
  ASSERT_EQ(decode(R"({"topic":"orderbook.50.BTCUSDT","ts":1672304484978,"type":"delta",)"
                   R"("data":{"u":18521289,"seq":7961638725,"a":[["65140","1.5"]],)"
                   R"("b":[["65139.1","0"]],"s":"BTCUSDT"}})"),
            DecodeStatus::kOk);
  ASSERT_EQ(decode(R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1672304484979,)"
                   R"("data":{"s":"BTCUSDT","b":[["65139.10","0.000"]],"a":[["65140.00","1.50"]],)"
                   R"("u":18521290,"seq":7961638726},"cts":1672304484977})"),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 3u);  // asks before bids: the bid opens its own event
  const MarketEvent& a0 = sink_.events[0];
  const MarketEvent& b0 = sink_.events[1];
  const MarketEvent& c = sink_.events[2];
  EXPECT_EQ(a0.n_bids, 0);
  EXPECT_EQ(a0.n_asks, 1);
  EXPECT_EQ(a0.flags, kFirstInMessage);
  EXPECT_EQ(b0.n_bids, 1);
  EXPECT_EQ(b0.flags, kLastInMessage);
  EXPECT_EQ(a0.txn_ts_ms, 0);
  EXPECT_EQ(a0.symbol, c.symbol);
  EXPECT_EQ(a0.kind, EventKind::kBookDelta);
  EXPECT_EQ(c.bids()[0].px, b0.bids()[0].px);
  EXPECT_EQ(c.bids()[0].qty, 0);
  EXPECT_EQ(c.asks()[0].px, a0.asks()[0].px);
  EXPECT_EQ(c.asks()[0].qty, a0.asks()[0].qty);
  EXPECT_EQ(c.msg_seq, 2u);
  EXPECT_EQ(dec_.stats().book_deltas, 2u);
}

std::string levels(int n, int base) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) {
    if (i) s += ',';
    s += "[\"" + std::to_string(base + i) + ".5\",\"" + std::to_string(i + 1) + "\"]";
  }
  return s + "]";
}

TEST_F(BybitDecoderTest, SixtyLevelsSplitIntoThreeEvents) {
  const std::string msg = R"({"topic":"orderbook.200.ETHUSDT","type":"snapshot","ts":1,)"
                          R"("data":{"s":"ETHUSDT","b":)" + levels(30, 1000) +
                          R"(,"a":)" + levels(30, 2000) + R"(,"u":7,"seq":9},"cts":2})";
  ASSERT_EQ(decode(msg), DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.publishes, 1u);
  const auto& ev = sink_.events;
  EXPECT_EQ(ev[0].n_bids, 26);
  EXPECT_EQ(ev[0].n_asks, 0);
  EXPECT_EQ(ev[1].n_bids, 4);
  EXPECT_EQ(ev[1].n_asks, 22);
  EXPECT_EQ(ev[2].n_bids, 0);
  EXPECT_EQ(ev[2].n_asks, 8);
  EXPECT_EQ(ev[0].flags, kFirstInMessage);
  EXPECT_EQ(ev[1].flags, 0);
  EXPECT_EQ(ev[2].flags, kLastInMessage);
  for (const auto& e : ev) {
    EXPECT_EQ(e.kind, EventKind::kBookSnapshot);
    EXPECT_EQ(e.update_id, 7u);
    EXPECT_EQ(e.seq, 9u);
    EXPECT_EQ(e.exch_ts_ms, 1);
    EXPECT_EQ(e.txn_ts_ms, 2);
  }
  EXPECT_EQ(ev[1].bids()[3].px, fx("1029.5"));
  EXPECT_EQ(ev[1].asks()[0].px, fx("2000.5"));
  EXPECT_EQ(ev[2].asks()[7].px, fx("2029.5"));
  EXPECT_EQ(ev[2].asks()[7].qty, fx("30"));
}

TEST_F(BybitDecoderTest, DeltaWithUpdateIdOneIsASnapshot) {
  ASSERT_EQ(decode(R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT",)"
                   R"("b":[["1","2"]],"a":[],"u":1,"seq":3}})"),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].kind, EventKind::kBookSnapshot);
  EXPECT_EQ(dec_.stats().book_snapshots, 1u);
}

TEST_F(BybitDecoderTest, EmptyDeltaStillYieldsOneEvent) {
  ASSERT_EQ(decode(R"({"topic":"orderbook.1.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT",)"
                   R"("b":[],"a":[],"u":55,"seq":3}})"),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].n_bids + sink_.events[0].n_asks, 0);
  EXPECT_EQ(sink_.events[0].update_id, 55u);
  EXPECT_EQ(sink_.events[0].flags, kFirstInMessage | kLastInMessage);
}

TEST_F(BybitDecoderTest, DataBeforeTopicIsStillDecoded) {
  ASSERT_EQ(decode(R"({"data":{"s":"BTCUSDT","b":[["1","2"]],"a":[],"u":5,"seq":3},)"
                   R"("ts":1,"type":"delta","topic":"orderbook.1.BTCUSDT"})"),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].n_bids, 1);
}

TEST_F(BybitDecoderTest, ManyTradesInOneMessage) {
  std::string msg = R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[)";
  for (int i = 0; i < 40; ++i) {
    if (i) msg += ',';
    msg += R"({"T":)" + std::to_string(1672304486865 + i) + R"(,"s":"BTCUSDT","S":")" +
           (i % 2 ? "Sell" : "Buy") + R"(","v":"0.00)" + std::to_string(i + 1) +
           R"(","p":"16578.50","L":"PlusTick","i":")" +
           (i == 0 ? std::string("20f43950-d8dd-5b31-9112-a178eb6023af") : std::to_string(1000 + i)) +
           R"(","BT":false,"seq":)" + std::to_string(5000 + i) + "}";
  }
  msg += "]}";
  ASSERT_EQ(decode(msg, 9, 10), DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 40u);
  EXPECT_EQ(sink_.publishes, 1u);
  for (int i = 0; i < 40; ++i) {
    const MarketEvent& e = sink_.events[static_cast<std::size_t>(i)];
    EXPECT_EQ(e.kind, EventKind::kTrade);
    EXPECT_EQ(e.venue, Venue::kBybit);
    EXPECT_EQ(e.exch_ts_ms, 1672304486868);
    EXPECT_EQ(e.txn_ts_ms, 1672304486865 + i);
    EXPECT_EQ(e.seq, 5000u + static_cast<unsigned>(i));
    EXPECT_EQ(e.local_ns, 9);
    EXPECT_EQ(e.recv_mono_ns, 10);
    EXPECT_EQ(e.trade.px, fx("16578.5"));
    EXPECT_EQ(e.trade.aggressor, i % 2 ? Side::kSell : Side::kBuy);
    EXPECT_EQ(e.trade.trade_id, i == 0 ? 0u : 1000u + static_cast<unsigned>(i));
    EXPECT_EQ(symbols_.name(e.symbol), "BTCUSDT");
    EXPECT_EQ(e.flags, (i == 0 ? kFirstInMessage : 0) | (i == 39 ? kLastInMessage : 0));
  }
  EXPECT_EQ(sink_.events[2].trade.qty, fx("0.003"));
  EXPECT_EQ(dec_.stats().trades, 40u);
  EXPECT_EQ(dec_.stats().trade_messages, 1u);
}

// Issue 11 finding 9: a level with a price <= 0 or a quantity < 0 is dropped and counted by
// kind; the message's other levels are published, qty 0 stays a delete, and the counts ride on
// the message's first event for the engine.
TEST_F(BybitDecoderTest, InvalidLevelsAreDroppedAndCountedByKind) {
  ASSERT_EQ(decode(R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT",)"
                   R"("b":[["0","1"],["16493.50","0.006"],["-16493.00","0.1"],["16492.00","0"]],)"
                   R"("a":[["16611.00","-5"],["16612.00","0.213"],["0.00","-1"]],"u":7}})"),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  const MarketEvent& e = sink_.events[0];
  ASSERT_EQ(e.n_bids, 2);
  ASSERT_EQ(e.n_asks, 1);
  EXPECT_EQ(e.bids()[0].px, fx("16493.5"));
  EXPECT_EQ(e.bids()[1].px, fx("16492"));  // qty 0: a delete, not invalid
  EXPECT_EQ(e.bids()[1].qty, 0);
  EXPECT_EQ(e.asks()[0].px, fx("16612"));
  EXPECT_EQ(e.invalid_price, 3);  // "0", "-16493.00" and "0.00" (counted once, as its price)
  EXPECT_EQ(e.invalid_qty, 1);    // "-5"
  EXPECT_EQ(dec_.stats().invalid_price, 3u);
  EXPECT_EQ(dec_.stats().invalid_qty, 1u);
  EXPECT_EQ(dec_.stats().levels, 3u);
  EXPECT_EQ(dec_.stats().errors, 0u);

  // Spanning several events: the counts are on the first event only.
  std::string msg = R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"data":{"s":"BTCUSDT","b":[)";
  for (int i = 0; i < 60; ++i) {
    if (i != 0) msg += ',';
    msg += i % 3 != 0 ? R"(["100","1"])" : R"(["-1","1"])";
  }
  msg += R"(],"a":[],"u":8}})";
  sink_.events.clear();
  ASSERT_EQ(decode(msg), DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 2u);  // 40 valid bids: 26 + 14
  EXPECT_EQ(sink_.events[0].invalid_price, 20);
  EXPECT_EQ(sink_.events[1].invalid_price, 0);
  EXPECT_EQ(dec_.stats().invalid_price, 23u);
}

TEST_F(BybitDecoderTest, InvalidTradesAreDroppedAndCounted) {
  const auto trade = [](const char* p, const char* v, int i) {
    return R"({"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":")" + std::string(v) + R"(","p":")" +
           p + R"(","i":")" + std::to_string(i) + R"(","seq":)" + std::to_string(i) + "}";
  };
  const std::string head = R"({"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[)";
  ASSERT_EQ(decode(head + trade("0", "1", 1) + "," + trade("16578.5", "0.5", 2) + "," +
                   trade("16578.5", "0", 3) + "," + trade("-1", "-1", 4) + "," +
                   trade("16578.5", "-0.1", 5) + "]}"),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  EXPECT_EQ(sink_.events[0].kind, EventKind::kTrade);
  EXPECT_EQ(sink_.events[0].trade.trade_id, 2u);
  EXPECT_EQ(sink_.events[0].invalid_price, 2);  // trades 1 and 4
  EXPECT_EQ(sink_.events[0].invalid_qty, 2);    // trades 3 (size 0) and 5
  EXPECT_EQ(dec_.stats().trades, 1u);
  EXPECT_EQ(dec_.stats().invalid_price, 2u);
  EXPECT_EQ(dec_.stats().invalid_qty, 2u);

  // No valid trade left: one event of kind kNone carries the counts, the symbol and the times.
  sink_.events.clear();
  ASSERT_EQ(decode(head + trade("0", "1", 6) + "]}", 7, 8), DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  const MarketEvent& c = sink_.events[0];
  EXPECT_EQ(c.kind, EventKind::kNone);
  EXPECT_EQ(c.venue, Venue::kBybit);
  EXPECT_EQ(symbols_.name(c.symbol), "BTCUSDT");
  EXPECT_EQ(c.local_ns, 7);
  EXPECT_EQ(c.exch_ts_ms, 1672304486868);
  EXPECT_EQ(c.invalid_price, 1);
  EXPECT_EQ(c.invalid_qty, 0);
  EXPECT_EQ(c.flags, kFirstInMessage | kLastInMessage);
  EXPECT_EQ(c.trade.px, 0);
  EXPECT_EQ(dec_.stats().trades, 1u);
  EXPECT_EQ(dec_.stats().trade_messages, 1u);
  EXPECT_EQ(dec_.stats().skipped_topics, 0u);
  EXPECT_EQ(dec_.stats().invalid_price, 3u);

  // A message that fails later is an error: its invalid values are not counted.
  ASSERT_EQ(decode(head + trade("0", "1", 7) + R"(,{"T":1}]})"), DecodeStatus::kMissingField);
  EXPECT_EQ(dec_.stats().invalid_price, 3u);
}

// Dropped values claim no event, so their count is what bounds a message: past 65535 (what
// the events' 16-bit counters hold) the message is refused like one with too many events.
TEST_F(BybitDecoderTest, TooManyInvalidValuesIsSinkFull) {
  for (const int n : {65535, 65536}) {
    std::string msg = R"({"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[)";
    for (int i = 0; i < n; ++i) msg += i ? R"(,["0","1"])" : R"(["0","1"])";
    msg += R"(],"a":[],"u":9}})";
    sink_.events.clear();
    ASSERT_EQ(decode(msg), n == 65535 ? DecodeStatus::kOk : DecodeStatus::kSinkFull) << n;
    if (n == 65535) {
      EXPECT_EQ(sink_.events.at(0).invalid_price, 65535);
    }
  }
  EXPECT_EQ(dec_.stats().invalid_price, 65535u);
}

TEST_F(BybitDecoderTest, AcksPongsAndOtherTopicsAreSkippedAndCounted) {
  EXPECT_EQ(decode(R"({"success":true,"ret_msg":"subscribe","conn_id":"2324d924","req_id":"10001","op":"subscribe"})"),
            DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"success":false,"ret_msg":"error:handler not found","conn_id":"x","op":"subscribe"})"),
            DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"success":true,"ret_msg":"pong","conn_id":"0970e817","op":"ping"})"),
            DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"req_id":"100001","op":"pong","args":["1661916022155"],"conn_id":"c"})"),
            DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT"},"cs":1,"ts":2})"),
            DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"topic":"kline.5.BTCUSDT","data":[{"start":1}],"ts":2,"type":"snapshot"})"),
            DecodeStatus::kSkipped);
  EXPECT_EQ(dec_.stats().acks, 2u);
  EXPECT_EQ(dec_.stats().failed_acks, 1u);
  EXPECT_EQ(dec_.stats().pongs, 2u);
  EXPECT_EQ(dec_.stats().skipped_topics, 2u);
  EXPECT_EQ(dec_.stats().errors, 0u);
  EXPECT_TRUE(sink_.events.empty());
}

struct ErrorCase {
  const char* name;
  std::string_view msg;
  DecodeStatus want;
};

TEST_F(BybitDecoderTest, EachErrorClassAbortsAndCounts) {
  const std::string huge_level = R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[["1","2","3"]],"a":[],"u":2}})";
  const ErrorCase cases[] = {
      {"empty", "", DecodeStatus::kMalformedJson},
      {"garbage", "\x01\xff\xfe garbage", DecodeStatus::kMalformedJson},
      {"truncated", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[["1","2"])",
       DecodeStatus::kMalformedJson},
      {"trailing", R"({"op":"pong"} {"op":"pong"})", DecodeStatus::kMalformedJson},
      {"array root", "[1,2,3]", DecodeStatus::kUnknownMessage},
      {"unknown object", R"({"hello":"world"})", DecodeStatus::kUnknownMessage},
      {"missing u", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[],"a":[]}})",
       DecodeStatus::kMissingField},
      {"missing ts", R"({"topic":"orderbook.1.X","type":"delta","data":{"s":"X","b":[],"a":[],"u":2}})",
       DecodeStatus::kMissingField},
      {"missing data", R"({"topic":"publicTrade.X","type":"snapshot","ts":1})", DecodeStatus::kMissingField},
      {"trade missing side", R"({"topic":"publicTrade.X","ts":1,"data":[{"T":1,"s":"X","v":"1","p":"2"}]})",
       DecodeStatus::kMissingField},
      {"u as string", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[],"a":[],"u":"2"}})",
       DecodeStatus::kBadValue},
      {"bad decimal", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[["1.2.3","1"]],"a":[],"u":2}})",
       DecodeStatus::kBadValue},
      {"decimal as number", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[[1.5,"1"]],"a":[],"u":2}})",
       DecodeStatus::kBadValue},
      {"three elements", huge_level, DecodeStatus::kBadValue},
      {"one element", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[["1"]],"a":[],"u":2}})",
       DecodeStatus::kBadValue},
      {"bad side", R"({"topic":"publicTrade.X","ts":1,"data":[{"T":1,"s":"X","S":"Hold","v":"1","p":"2"}]})",
       DecodeStatus::kBadValue},
      {"bad type", R"({"topic":"orderbook.1.X","type":"full","ts":1,"data":{"s":"X","b":[],"a":[],"u":2}})",
       DecodeStatus::kBadValue},
      {"negative u", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"X","b":[],"a":[],"u":-2}})",
       DecodeStatus::kBadValue},
      {"symbol too long", R"({"topic":"orderbook.1.X","type":"delta","ts":1,"data":{"s":"ABCDEFGHIJKLMNOPQRSTUVWXYZ","b":[],"a":[],"u":2}})",
       DecodeStatus::kSymbolTableFull},
  };
  std::uint64_t want_errors = 0;
  for (const ErrorCase& c : cases) {
    EXPECT_EQ(decode(c.msg), c.want) << c.name;
    ++want_errors;
    EXPECT_EQ(sink_.pending(), 0u) << c.name;
  }
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(dec_.stats().errors, want_errors);
  EXPECT_EQ(dec_.stats().errors_of(DecodeStatus::kBadValue), 8u);
  EXPECT_EQ(dec_.stats().errors_of(DecodeStatus::kMissingField), 4u);
  // A good message after all of that still decodes.
  EXPECT_EQ(decode(kLinearSnapshot), DecodeStatus::kOk);
}

TEST_F(BybitDecoderTest, BadValueHalfWayAbortsEventsAlreadyClaimed) {
  const std::string msg = R"({"topic":"orderbook.200.ETHUSDT","type":"snapshot","ts":1,)"
                          R"("data":{"s":"ETHUSDT","b":)" + levels(60, 1000) +
                          R"(,"a":[["1","x"]],"u":7,"seq":9}})";
  EXPECT_EQ(decode(msg), DecodeStatus::kBadValue);
  // Three times: the exact layout and then the field loop of the one-pass path gave up on the
  // bad value (their 60 levels dropped), then simdjson's path read the message again and
  // refused it (feed/internal/json_one_pass.h).
  EXPECT_EQ(sink_.aborts, 3u);
  EXPECT_EQ(sink_.events.size(), 0u);
}

TEST_F(BybitDecoderTest, SinkFullAborts) {
  VectorSink tiny(2);
  const std::string msg = R"({"topic":"orderbook.200.ETHUSDT","type":"snapshot","ts":1,)"
                          R"("data":{"s":"ETHUSDT","b":)" + levels(60, 1000) +
                          R"(,"a":[],"u":7,"seq":9}})";
  buf_.assign(msg);
  buf_.resize(msg.size() + simdjson::SIMDJSON_PADDING);
  EXPECT_EQ(dec_.decode(buf_.data(), msg.size(), buf_.size(), 0, 0, tiny), DecodeStatus::kSinkFull);
  EXPECT_EQ(tiny.aborts, 3u);  // the exact layout's attempt, the field loop's, then simdjson's
  EXPECT_TRUE(tiny.events.empty());
}

TEST_F(BybitDecoderTest, InsufficientPaddingIsRefused) {
  const std::string_view msg = R"({"op":"pong"})";
  buf_.assign(msg);
  EXPECT_EQ(dec_.decode(buf_.data(), msg.size(), msg.size(), 0, 0, sink_), DecodeStatus::kMalformedJson);
}

// The level scanner and the trade fields parse decimals with their own fast path
// (feed_internal::scan_decimal); it must accept exactly what parse_fixed accepts, with the same
// value, whatever the bytes after the string and with or without whitespace around it.
TEST_F(BybitDecoderTest, DecimalsAgreeWithParseFixed) {
  std::mt19937_64 rng(61837);
  auto pick = [&rng](std::string_view from) { return from[rng() % from.size()]; };
  std::vector<std::string> inputs = {"0", "6203", "1.9531", "61837.63000000", "0.00000000",
                                     "12345678", "1234567.12345678", "12345678.12345678",
                                     "99999999.99999999", "92233720368.54775807", "-1.5", "+2",
                                     "", "-", ".5", "1.", "1.2.3", "1e5", "0.000000001",
                                     "1.0000000000", " 1", "1 ", "1234567.123456789"};
  for (int i = 0; i < 3000; ++i) {
    std::string d;
    const std::size_t n = rng() % 20;
    for (std::size_t k = 0; k < n; ++k) d += pick("012345678901234567890123456789.-+e ");
    inputs.push_back(d);
  }
  for (const std::string& d : inputs) {
    Fixed want = 0;
    const bool ok = parse_fixed(d, want);
    for (const bool spaced : {false, true}) {
      const std::string sp = spaced ? " " : "";
      const std::string book = R"({"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,)"
                               R"("data":{"s":"BTCUSDT","b":[)" + sp + "[" + sp + "\"" + d +
                               "\"" + sp + "," + sp + "\"" + d + "\"" + sp + "]" + sp +
                               R"(],"a":[],"u":5}})";
      sink_.events.clear();
      ASSERT_EQ(decode(book), ok ? DecodeStatus::kOk : DecodeStatus::kBadValue) << book;
      if (ok) {
        // A price <= 0 or a quantity < 0 is parsed, then dropped and counted (by its price).
        ASSERT_EQ(sink_.events.size(), 1u);
        const MarketEvent& e = sink_.events[0];
        if (want > 0) {
          ASSERT_EQ(e.n_bids, 1) << book;
          EXPECT_EQ(e.levels[0].px, want) << book;
          EXPECT_EQ(e.levels[0].qty, want) << book;
        } else {
          EXPECT_EQ(e.n_bids, 0) << book;
          EXPECT_EQ(e.invalid_price, 1) << book;
        }
      }
      const std::string trade = R"({"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,)"
                                R"("s":"BTCUSDT","S":"Buy","v":"1","p":)" + sp + "\"" + d +
                                "\"" + sp + R"(,"i":"7"}]})";
      sink_.events.clear();
      ASSERT_EQ(decode(trade), ok ? DecodeStatus::kOk : DecodeStatus::kBadValue) << trade;
      if (ok) {
        const MarketEvent& e = sink_.events.at(0);
        EXPECT_EQ(e.kind, want > 0 ? EventKind::kTrade : EventKind::kNone) << trade;
        EXPECT_EQ(e.trade.px, want > 0 ? want : 0) << trade;
        EXPECT_EQ(e.invalid_price, want > 0 ? 0 : 1) << trade;
      }
    }
  }
}

TEST(DecodeStatusTest, NamesAreStable) {
  EXPECT_EQ(to_string(DecodeStatus::kOk), "ok");
  EXPECT_EQ(to_string(DecodeStatus::kSinkFull), "sink_full");
  EXPECT_EQ(to_string(DecodeStatus::kMalformedJson), "malformed_json");
  EXPECT_FALSE(is_error(DecodeStatus::kSkipped));
  EXPECT_TRUE(is_error(DecodeStatus::kBadValue));
}

}  // namespace
}  // namespace shadow
