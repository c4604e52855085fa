// Both decoders on the recorded real samples (../shared/data, via SHADOW_DATA_DIR), read through
// feed's capture driver (decode_capture): every line decodes without error, message and event
// counts match the files, and the first message's levels are exact.
#include <gtest/gtest.h>

#include "tests/support/require.h"

#include <string>
#include <string_view>

#include "feed/capture_decoder.h"
#include "tests/fuzz/decoder_test_support.h"

namespace shadow {
namespace {

// Decodes a recorded sample line by line through decode_capture with one protocol; every line
// must decode. False when the sample is not there.
class DecoderDataTest : public ::testing::Test {
 protected:
  bool decode(const char* rel, Protocol protocol) {
    const std::string path = testing::data_path(rel);
    std::string error;
    auto check = [&](const CaptureLine& l, DecodeStatus st) {
      ++lines_;
      EXPECT_EQ(st, DecodeStatus::kOk) << std::string_view(l.data, l.len).substr(0, 120);
    };
    return !path.empty() && decode_capture(path, protocol, decoder_, sink_, error, check);
  }

  SymbolTable symbols_;
  CaptureDecoder decoder_{symbols_};
  testing::VectorSink sink_;
  std::size_t lines_ = 0;
};

Fixed fx(std::string_view s) {
  Fixed v = 0;
  EXPECT_TRUE(parse_fixed(s, v)) << s;
  return v;
}

TEST_F(DecoderDataTest, BybitSampleDecodesCompletely) {
  if (!decode(testing::kBybitSample, Protocol::kBybit)) {
    SHADOW_MISSING("sample " << testing::kBybitSample << " not found: set SHADOW_DATA_DIR");
  }
  ASSERT_EQ(lines_, 50u);
  const DecoderStats& s = decoder_.bybit_stats();
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(s.book_snapshots, 1u);
  EXPECT_EQ(s.book_deltas, 49u);
  EXPECT_EQ(s.levels, 3966u);
  EXPECT_EQ(s.events, 182u);
  EXPECT_EQ(sink_.events.size(), 182u);
  EXPECT_EQ(symbols_.size(), 1u);

  // The snapshot: 500 bids then 500 asks over 39 events, the ask side starting in event 19.
  const auto& ev = sink_.events;
  for (std::size_t i = 0; i < 39; ++i) {
    EXPECT_EQ(ev[i].kind, EventKind::kBookSnapshot);
    EXPECT_EQ(ev[i].update_id, 20254869u);
    EXPECT_EQ(ev[i].seq, 130020238981u);
    EXPECT_EQ(ev[i].exch_ts_ms, 1733011200691);
    EXPECT_EQ(ev[i].txn_ts_ms, 1733011200589);
    EXPECT_EQ(ev[i].first_in_message(), i == 0);
    EXPECT_EQ(ev[i].last_in_message(), i == 38);
  }
  EXPECT_EQ(ev[0].bids()[0].px, fx("1.9531"));
  EXPECT_EQ(ev[0].bids()[0].qty, fx("6203"));
  EXPECT_EQ(ev[0].bids()[1].px, fx("1.9530"));
  EXPECT_EQ(ev[0].bids()[1].qty, fx("2409"));
  EXPECT_EQ(ev[19].n_bids, 500 - 19 * 26);
  EXPECT_EQ(ev[19].bids()[ev[19].n_bids - 1].px, fx("1.9031"));
  EXPECT_EQ(ev[19].bids()[ev[19].n_bids - 1].qty, fx("877"));
  EXPECT_EQ(ev[19].asks()[0].px, fx("1.9532"));
  EXPECT_EQ(ev[19].asks()[0].qty, fx("10480"));
  EXPECT_EQ(ev[38].asks()[ev[38].n_asks - 1].px, fx("2.0031"));
  EXPECT_EQ(ev[38].asks()[ev[38].n_asks - 1].qty, fx("123"));
  std::size_t bids = 0, asks = 0;
  for (std::size_t i = 0; i < 39; ++i) {
    bids += ev[i].n_bids;
    asks += ev[i].n_asks;
  }
  EXPECT_EQ(bids, 500u);
  EXPECT_EQ(asks, 500u);
  // Deltas: u rises by exactly one.
  std::uint64_t prev = 20254869;
  for (std::size_t i = 39; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].kind, EventKind::kBookDelta);
    if (ev[i].first_in_message()) {
      EXPECT_EQ(ev[i].update_id, prev + 1);
      prev = ev[i].update_id;
    }
  }
}

TEST_F(DecoderDataTest, BinanceSampleDecodesCompletely) {
  if (!decode(testing::kBinanceSample, Protocol::kBinance)) {
    SHADOW_MISSING("sample " << testing::kBinanceSample << " not found: set SHADOW_DATA_DIR");
  }
  ASSERT_EQ(lines_, 41249u);
  const DecoderStats& s = decoder_.binance_stats();
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(s.bbo, 28040u);
  EXPECT_EQ(s.book_deltas, 3451u);
  EXPECT_EQ(s.trades, 9757u);
  EXPECT_EQ(s.trade_messages, 9757u);
  EXPECT_EQ(s.book_snapshots, 1u);
  EXPECT_EQ(s.levels, 126090u);
  EXPECT_EQ(s.events, 28040u + 9757u + 6679u);
  EXPECT_EQ(symbols_.size(), 1u);

  const auto& ev = sink_.events;
  EXPECT_EQ(ev[0].kind, EventKind::kBookDelta);
  EXPECT_EQ(ev[0].local_ns, 1723161253937085768);
  EXPECT_EQ(ev[0].first_update_id, 50093239189u);
  EXPECT_EQ(ev[0].update_id, 50093239202u);
  ASSERT_EQ(ev[0].n_bids, 3);
  ASSERT_EQ(ev[0].n_asks, 9);
  EXPECT_EQ(ev[0].bids()[0].px, fx("61737.63"));
  EXPECT_EQ(ev[0].bids()[0].qty, 0);
  EXPECT_EQ(ev[0].bids()[2].px, fx("56854.58"));
  EXPECT_EQ(ev[0].asks()[0].px, fx("61837.64"));
  EXPECT_EQ(ev[0].asks()[0].qty, fx("1.54698"));
  EXPECT_EQ(ev[0].asks()[8].px, fx("61937.64"));
  EXPECT_EQ(ev[0].asks()[8].qty, fx("0.02"));
  // The REST snapshot: 1000 + 1000 levels over 77 events, attributed to BTCUSDT spot.
  std::size_t snap_events = 0, bids = 0, asks = 0;
  for (const auto& e : ev) {
    if (e.kind != EventKind::kBookSnapshot) continue;
    ++snap_events;
    bids += e.n_bids;
    asks += e.n_asks;
    EXPECT_EQ(e.update_id, 50093239218u);
    EXPECT_EQ(e.venue, Venue::kBinanceSpot);
    EXPECT_EQ(symbols_.name(e.symbol), "BTCUSDT");
  }
  EXPECT_EQ(snap_events, 77u);
  EXPECT_EQ(bids, 1000u);
  EXPECT_EQ(asks, 1000u);
}

}  // namespace
}  // namespace shadow
