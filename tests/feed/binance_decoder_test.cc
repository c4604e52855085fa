// BinanceDecoder on hand-written messages: combined-stream wrapper and bare payloads, spot and
// futures depthUpdate, trade, aggTrade, bookTicker, the REST snapshot, skips and errors.
#include "feed/binance_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/feed/decoder_fixture.h"
#include "tests/fuzz/decoder_test_support.h"

namespace shadow {
namespace {

using testing::VectorSink;

class BinanceDecoderTest : public testing::DecoderFixture<BinanceDecoder> {
 protected:
  const MarketEvent& last() { return sink_.events.back(); }
};

TEST_F(BinanceDecoderTest, SpotDepthUpdateInCombinedStream) {
  ASSERT_EQ(decode(R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,)"
                   R"("s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"],)"
                   R"(["61730.17000000","1.25000000"]],"a":[["61837.64000000","1.54698000"]]}})", 7, 8),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  const MarketEvent& e = last();
  EXPECT_EQ(e.kind, EventKind::kBookDelta);
  EXPECT_EQ(e.venue, Venue::kBinanceSpot);
  EXPECT_EQ(e.local_ns, 7);
  EXPECT_EQ(e.recv_mono_ns, 8);
  EXPECT_EQ(e.exch_ts_ms, 1723161255208);
  EXPECT_EQ(e.txn_ts_ms, 0);
  EXPECT_EQ(e.first_update_id, 50093239189u);
  EXPECT_EQ(e.update_id, 50093239202u);
  EXPECT_EQ(e.prev_update_id, 0u);
  EXPECT_EQ(e.flags, kFirstInMessage | kLastInMessage);
  EXPECT_EQ(symbols_.name(e.symbol), "BTCUSDT");  // payload s, not the stream name
  ASSERT_EQ(e.n_bids, 2);
  ASSERT_EQ(e.n_asks, 1);
  EXPECT_EQ(e.bids()[0].px, fx("61737.63"));
  EXPECT_EQ(e.bids()[0].qty, 0);
  EXPECT_EQ(e.bids()[1].qty, fx("1.25"));
  EXPECT_EQ(e.asks()[0].px, fx("61837.64"));
  EXPECT_EQ(dec_.stats().book_deltas, 1u);
}

TEST_F(BinanceDecoderTest, FuturesDepthUpdateSetsPrevUpdateIdAndVenue) {
  ASSERT_EQ(decode(R"({"e":"depthUpdate","E":1591270260907,"T":1591270260891,"s":"BTCUSDT",)"
                   R"("U":157,"u":160,"pu":149,"b":[["9517.12","10"]],"a":[]})"),
            DecodeStatus::kOk);
  const MarketEvent e = last();  // a copy: the next decode may grow sink_.events
  EXPECT_EQ(e.venue, Venue::kBinanceFutures);
  EXPECT_EQ(e.flags, kFirstInMessage | kLastInMessage | kHasPrevUpdateId);
  EXPECT_EQ(e.prev_update_id, 149u);
  EXPECT_EQ(e.txn_ts_ms, 1591270260891);
  EXPECT_EQ(e.first_update_id, 157u);
  EXPECT_EQ(e.update_id, 160u);
  EXPECT_EQ(symbols_.venue(e.symbol), Venue::kBinanceFutures);
  // Trades after futures depth belong to the same (futures) symbol id.
  ASSERT_EQ(decode(R"({"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001",)"
                   R"("q":"100","f":100,"l":105,"T":123456785,"m":true})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().venue, Venue::kBinanceFutures);
  EXPECT_EQ(last().symbol, e.symbol);
}

TEST_F(BinanceDecoderTest, TradeAndAggTrade) {
  ASSERT_EQ(decode(R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",)"
                   R"("t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}})"),
            DecodeStatus::kOk);
  const MarketEvent t = last();
  EXPECT_EQ(t.kind, EventKind::kTrade);
  EXPECT_EQ(t.venue, Venue::kBinanceSpot);
  EXPECT_EQ(t.exch_ts_ms, 1723161255343);
  EXPECT_EQ(t.txn_ts_ms, 1723161255342);
  EXPECT_EQ(t.seq, 3735683259u);
  EXPECT_EQ(t.update_id, 0u);
  EXPECT_EQ(t.trade.trade_id, 3735683259u);
  EXPECT_EQ(t.trade.px, fx("61837.63"));
  EXPECT_EQ(t.trade.qty, fx("0.02"));
  EXPECT_EQ(t.trade.aggressor, Side::kSell);  // buyer is maker: the seller took
  EXPECT_EQ(t.flags, kFirstInMessage | kLastInMessage);
  ASSERT_EQ(decode(R"({"e":"aggTrade","E":2,"s":"BTCUSDT","a":26129,"p":"0.01633102","q":"4.70443515",)"
                   R"("f":27781,"l":27781,"T":1,"m":false,"M":true})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().trade.trade_id, 26129u);
  EXPECT_EQ(last().seq, 26129u);
  EXPECT_EQ(last().trade.aggressor, Side::kBuy);
  EXPECT_EQ(last().symbol, t.symbol);
  EXPECT_EQ(dec_.stats().trades, 2u);
  EXPECT_EQ(dec_.stats().trade_messages, 2u);
}

// Issue 11 finding 9: impossible values are dropped and counted by kind, never passed on.
TEST_F(BinanceDecoderTest, InvalidLevelsAreDroppedAndCountedByKind) {
  ASSERT_EQ(decode(R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",)"
                   R"("U":5,"u":6,"b":[["-61830.17000000","0.00000000"],["61818.52000000","0.21367000"]],)"
                   R"("a":[["61837.64000000","-5"],["61839.85000000","0.00000000"],["0.00000000","1.0"]]}})"),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  const MarketEvent& e = last();
  ASSERT_EQ(e.n_bids, 1);
  ASSERT_EQ(e.n_asks, 1);
  EXPECT_EQ(e.bids()[0].px, fx("61818.52"));
  EXPECT_EQ(e.asks()[0].px, fx("61839.85"));  // qty 0: a delete, kept
  EXPECT_EQ(e.invalid_price, 2);
  EXPECT_EQ(e.invalid_qty, 1);
  // The REST snapshot's levels go through the same rule.
  ASSERT_EQ(decode(R"({"lastUpdateId":10,"bids":[["1.0","-2.0"],["0.9","2.0"]],"asks":[["-1","1"]]})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().kind, EventKind::kBookSnapshot);
  EXPECT_EQ(last().n_bids, 1);
  EXPECT_EQ(last().n_asks, 0);
  EXPECT_EQ(last().invalid_price, 1);
  EXPECT_EQ(last().invalid_qty, 1);
  EXPECT_EQ(dec_.stats().invalid_price, 3u);
  EXPECT_EQ(dec_.stats().invalid_qty, 2u);
  EXPECT_EQ(dec_.stats().levels, 3u);
}

TEST_F(BinanceDecoderTest, InvalidTradeIsDroppedAndItsCountCarriedByAnEmptyEvent) {
  ASSERT_EQ(decode(R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT",)"
                   R"("t":3735683259,"p":"0.00000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}})",
                   5, 6),
            DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 1u);
  const MarketEvent c = last();
  EXPECT_EQ(c.kind, EventKind::kNone);
  EXPECT_EQ(symbols_.name(c.symbol), "BTCUSDT");
  EXPECT_EQ(c.venue, Venue::kBinanceSpot);
  EXPECT_EQ(c.local_ns, 5);
  EXPECT_EQ(c.exch_ts_ms, 1723161255343);
  EXPECT_EQ(c.invalid_price, 1);
  EXPECT_EQ(c.invalid_qty, 0);
  EXPECT_EQ(c.trade.px, 0);
  EXPECT_EQ(c.trade.qty, 0);
  ASSERT_EQ(decode(R"({"e":"aggTrade","E":2,"s":"BTCUSDT","a":26129,"p":"0.01633102","q":"-4.7",)"
                   R"("f":27781,"l":27781,"T":1,"m":false,"M":true})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().kind, EventKind::kNone);
  EXPECT_EQ(last().invalid_qty, 1);
  ASSERT_EQ(decode(R"({"e":"trade","E":2,"s":"BTCUSDT","t":1,"p":"1.5","q":"0","T":1,"m":false})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().kind, EventKind::kNone);  // a trade of size 0 did not happen
  EXPECT_EQ(last().invalid_qty, 1);
  EXPECT_EQ(dec_.stats().trades, 0u);
  EXPECT_EQ(dec_.stats().trade_messages, 0u);
  EXPECT_EQ(dec_.stats().invalid_price, 1u);
  EXPECT_EQ(dec_.stats().invalid_qty, 2u);
  EXPECT_EQ(dec_.stats().errors, 0u);
  // A valid trade carries no count.
  ASSERT_EQ(decode(R"({"e":"trade","E":2,"s":"BTCUSDT","t":2,"p":"1.5","q":"1","T":1,"m":false})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().kind, EventKind::kTrade);
  EXPECT_EQ(last().invalid_price + last().invalid_qty, 0);
}

TEST_F(BinanceDecoderTest, SpotAndFuturesBookTicker) {
  ASSERT_EQ(decode(R"({"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT",)"
                   R"("b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}})"),
            DecodeStatus::kOk);
  const MarketEvent b = last();
  EXPECT_EQ(b.kind, EventKind::kBbo);
  EXPECT_EQ(b.venue, Venue::kBinanceSpot);
  EXPECT_EQ(b.update_id, 50093239212u);
  EXPECT_EQ(b.exch_ts_ms, 0);
  EXPECT_EQ(b.bbo.bid.px, fx("61837.63"));
  EXPECT_EQ(b.bbo.bid.qty, fx("3.78826"));
  EXPECT_EQ(b.bbo.ask.px, fx("61837.64"));
  EXPECT_EQ(b.bbo.ask.qty, fx("1.54698"));
  ASSERT_EQ(decode(R"({"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,)"
                   R"("s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().venue, Venue::kBinanceFutures);
  EXPECT_EQ(last().exch_ts_ms, 1568014460893);
  EXPECT_EQ(last().txn_ts_ms, 1568014460891);
  EXPECT_EQ(dec_.stats().bbo, 2u);
}

TEST_F(BinanceDecoderTest, RestSnapshotTakesLastDepthSymbolOrTheConfiguredOne) {
  EXPECT_EQ(decode(R"({"lastUpdateId":10,"bids":[["1.0","2.0"]],"asks":[]})"),
            DecodeStatus::kMissingField);  // no symbol known yet
  ASSERT_EQ(decode(R"({"e":"depthUpdate","E":1,"s":"ETHUSDT","U":5,"u":6,"b":[],"a":[]})"),
            DecodeStatus::kOk);
  const std::uint16_t eth = last().symbol;
  EXPECT_EQ(last().n_bids + last().n_asks, 0);
  std::string snap = R"({"lastUpdateId":1027024,"bids":[)";
  for (int i = 0; i < 40; ++i) {
    if (i) snap += ',';
    snap += "[\"";
    snap += std::to_string(4000 - i);
    snap += R"(.00000000","431.00000000"])";
  }
  snap += R"(],"asks":[["4000.00000200","12.00000000"]]})";
  ASSERT_EQ(decode(snap), DecodeStatus::kOk);
  ASSERT_EQ(sink_.events.size(), 3u);
  EXPECT_EQ(sink_.events[1].kind, EventKind::kBookSnapshot);
  EXPECT_EQ(sink_.events[1].n_bids, 26);
  EXPECT_EQ(sink_.events[2].n_bids, 14);
  EXPECT_EQ(sink_.events[2].n_asks, 1);
  EXPECT_EQ(sink_.events[1].update_id, 1027024u);
  EXPECT_EQ(sink_.events[1].first_update_id, 1027024u);
  EXPECT_EQ(sink_.events[2].symbol, eth);
  EXPECT_EQ(sink_.events[2].venue, Venue::kBinanceSpot);
  EXPECT_EQ(sink_.events[2].asks()[0].px, fx("4000.000002"));
  dec_.set_snapshot_symbol("BTCUSDT");
  ASSERT_EQ(decode(R"({"lastUpdateId":11,"E":5,"T":4,"bids":[],"asks":[]})"), DecodeStatus::kOk);
  EXPECT_EQ(symbols_.name(last().symbol), "BTCUSDT");
  EXPECT_EQ(last().venue, Venue::kBinanceFutures);  // E/T: the futures REST layout
  EXPECT_EQ(last().exch_ts_ms, 5);
  EXPECT_EQ(dec_.stats().book_snapshots, 2u);
}

TEST_F(BinanceDecoderTest, AcksAndOtherStreamsAreSkipped) {
  EXPECT_EQ(decode(R"({"result":null,"id":1})"), DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"error":{"code":2,"msg":"Invalid request"},"id":2})"), DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1}}})"),
            DecodeStatus::kSkipped);
  EXPECT_EQ(decode(R"({"stream":"!ticker@arr","data":[{"e":"24hrTicker"}]})"), DecodeStatus::kSkipped);
  EXPECT_EQ(dec_.stats().acks, 2u);
  EXPECT_EQ(dec_.stats().failed_acks, 1u);
  EXPECT_EQ(dec_.stats().skipped_topics, 2u);
  EXPECT_EQ(dec_.stats().errors, 0u);
  EXPECT_TRUE(sink_.events.empty());
}

TEST_F(BinanceDecoderTest, ErrorClasses) {
  struct Case {
    const char* name;
    std::string_view msg;
    DecodeStatus want;
  };
  const Case cases[] = {
      {"empty", "", DecodeStatus::kMalformedJson},
      {"spaces", "   ", DecodeStatus::kMalformedJson},
      {"garbage", "\x8b\x1f\x00zz", DecodeStatus::kMalformedJson},
      {"truncated", R"({"stream":"x","data":{"e":"trade","E":1,"s":"B)", DecodeStatus::kMalformedJson},
      {"deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
       DecodeStatus::kUnknownMessage},
      {"deep levels", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[[[[[[[[[[[[[[[[[[[[["1"]]]]]]]]]]]]]]]]]]]]],"a":[]})",
       DecodeStatus::kBadValue},
      {"number root", "42", DecodeStatus::kUnknownMessage},
      {"unknown", R"({"x":1})", DecodeStatus::kUnknownMessage},
      {"trade no price", R"({"e":"trade","E":1,"s":"B","t":1,"q":"1","T":1,"m":true})", DecodeStatus::kMissingField},
      {"depth no U", R"({"e":"depthUpdate","E":1,"s":"B","u":6,"b":[],"a":[]})", DecodeStatus::kMissingField},
      {"ticker no A", R"({"u":1,"s":"B","b":"1","B":"1","a":"1"})", DecodeStatus::kMissingField},
      {"m not bool", R"({"e":"trade","E":1,"s":"B","t":1,"p":"1","q":"1","T":1,"m":"yes"})", DecodeStatus::kBadValue},
      {"price exponent", R"({"e":"trade","E":1,"s":"B","t":1,"p":"1e5","q":"1","T":1,"m":true})", DecodeStatus::kBadValue},
      {"too precise", R"({"e":"trade","E":1,"s":"B","t":1,"p":"1.000000001","q":"1","T":1,"m":true})", DecodeStatus::kBadValue},
      {"u too big", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":18446744073709551616,"b":[],"a":[]})", DecodeStatus::kBadValue},
      {"level of 3", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1","2","3"]],"a":[]})", DecodeStatus::kBadValue},
      {"levels as object", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":{},"a":[]})", DecodeStatus::kBadValue},
      {"levels in trade", R"({"e":"trade","E":1,"s":"B","t":1,"p":"1","q":"1","T":1,"m":true,"b":[]})", DecodeStatus::kBadValue},
      {"symbol number", R"({"e":"trade","E":1,"s":5,"t":1,"p":"1","q":"1","T":1,"m":true})", DecodeStatus::kBadValue},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(decode(c.msg), c.want) << c.name;
    EXPECT_EQ(sink_.pending(), 0u) << c.name;
  }
  EXPECT_TRUE(sink_.events.empty());
  EXPECT_EQ(dec_.stats().errors, std::size(cases));
  EXPECT_EQ(dec_.stats().errors_of(DecodeStatus::kMissingField), 3u);
  EXPECT_EQ(dec_.stats().errors_of(DecodeStatus::kBadValue), 9u);
}

TEST_F(BinanceDecoderTest, UpdateIdsUseTheFullUnsignedRange) {
  ASSERT_EQ(decode(R"({"e":"depthUpdate","E":1,"s":"B","U":18446744073709551614,"u":18446744073709551615,"b":[],"a":[]})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().update_id, UINT64_MAX);
}

// The level scanner moves simdjson's iterator past the array itself, and plain integers and
// decimals take vector fast paths: whitespace, neighbours and edge values must read as before.
TEST_F(BinanceDecoderTest, LevelArraysIntegersAndDecimalsAtTheEdges) {
  ASSERT_EQ(decode(" {\"e\":\"depthUpdate\" , \"E\" : 1723161255208 ,\"s\":\"BTCUSDT\",\"U\":0,\"u\":7,"
                   "\"b\": [ [ \"61737.63000000\" , \"0.00000000\" ]\n,\t[\"1\",\"99999999.99999999\"] ] ,"
                   "\"a\":[ ],\"x\":[[\"1\",\"2\"]],\"T\":9999999999999999} "),
            DecodeStatus::kOk);
  const MarketEvent& e = last();
  EXPECT_EQ(e.exch_ts_ms, 1723161255208);
  EXPECT_EQ(e.first_update_id, 0u);
  EXPECT_EQ(e.update_id, 7u);
  ASSERT_EQ(e.n_bids, 2);
  EXPECT_EQ(e.n_asks, 0);
  EXPECT_EQ(e.bids()[0].px, fx("61737.63"));
  EXPECT_EQ(e.bids()[1].px, fx("1"));
  EXPECT_EQ(e.bids()[1].qty, fx("99999999.99999999"));

  ASSERT_EQ(decode(R"({"e":"depthUpdate","E":-5,"s":"B","U":12345678901234567,"u":1234567890123456789,"b":[["0.5","123456789.1"]],"a":[["7","08"]]})"),
            DecodeStatus::kOk);
  EXPECT_EQ(last().exch_ts_ms, -5);
  EXPECT_EQ(last().first_update_id, 12345678901234567u);
  EXPECT_EQ(last().update_id, 1234567890123456789u);
  EXPECT_EQ(last().bids()[0].qty, fx("123456789.1"));
  EXPECT_EQ(last().asks()[0].qty, fx("8"));

  const struct {
    const char* name;
    std::string_view msg;
    DecodeStatus want;
  } cases[] = {
      {"leading zero id", R"({"e":"depthUpdate","E":1,"s":"B","U":01,"u":2,"b":[],"a":[]})", DecodeStatus::kBadValue},
      {"fraction id", R"({"e":"depthUpdate","E":1,"s":"B","U":1.5,"u":2,"b":[],"a":[]})", DecodeStatus::kBadValue},
      {"id then junk", R"({"e":"depthUpdate","E":1,"s":"B","U":1x,"u":2,"b":[],"a":[]})", DecodeStatus::kBadValue},
      {"string id", R"({"e":"depthUpdate","E":1,"s":"B","U":"1","u":2,"b":[],"a":[]})", DecodeStatus::kBadValue},
      {"truncated levels", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1","2"],)", DecodeStatus::kMalformedJson},
      {"unclosed levels", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1","2"])", DecodeStatus::kMalformedJson},
      {"levels end the text", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"a":[],"b":[["1","2"]])", DecodeStatus::kMalformedJson},
      {"levels end the payload", R"({"stream":"x","data":{"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"a":[],"b":[["1","2"]])", DecodeStatus::kMalformedJson},
      {"levels then junk", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1","2"]]x,"a":[]})", DecodeStatus::kMalformedJson},
      {"escaped level", R"({"e":"depthUpdate","E":1,"s":"B","U":1,"u":2,"b":[["1\"","2"]],"a":[]})", DecodeStatus::kBadValue},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(decode(c.msg), c.want) << c.name;
    EXPECT_EQ(sink_.pending(), 0u) << c.name;
  }
}

}  // namespace
}  // namespace shadow
