// The venue preset table: every row is usable (a wss:// URL the client parses, a REST base for
// Binance, topics the decoders know), topics per venue and market, and symbols split into
// connections by the topic limit with a symbol's topics kept together.
#include "feed/venue_preset.h"

#include <gtest/gtest.h>

#include "feed/websocket_handshake.h"

namespace {

using namespace shadow;

TEST(VenuePreset, EveryRowIsUsable) {
  EXPECT_EQ(venue_presets().size(), 8u);
  for (const VenuePreset& p : venue_presets()) {
    SCOPED_TRACE(std::string(p.name));
    EXPECT_EQ(find_venue_preset(p.name), &p);
    WsUrl u;
    std::string err;
    ASSERT_TRUE(parse_ws_url(p.ws_url, u, err)) << err;
    EXPECT_TRUE(u.secure) << "real venues speak wss:// only";
    EXPECT_GE(p.max_topics, 2u);
    if (p.venue == FeedVenue::kBinance) {
      EXPECT_EQ(p.rest_url.rfind("https://", 0), 0u);
      EXPECT_EQ(p.depth_path, p.market == VenueMarket::kUsdm ? "/fapi/v1/depth" : "/api/v3/depth");
      EXPECT_EQ(p.ping_interval_s, 0) << "Binance pings; the client answers";
    } else {
      EXPECT_TRUE(p.rest_url.empty());
      EXPECT_EQ(p.ping_interval_s, 20) << "Bybit v5: {\"op\":\"ping\"} every 20 s";
    }
  }
  EXPECT_EQ(find_venue_preset("bybit"), nullptr);
  EXPECT_EQ(find_venue_preset(""), nullptr);
}

TEST(VenuePreset, TopicsPerVenueAndMarket) {
  EXPECT_EQ(preset_topics(*find_venue_preset("bybit-linear"), "BTCUSDT"),
            (std::vector<std::string>{"orderbook.50.BTCUSDT", "publicTrade.BTCUSDT"}));
  EXPECT_EQ(preset_topics(*find_venue_preset("binance-spot"), "BTCUSDT"),
            (std::vector<std::string>{"btcusdt@depth@100ms", "btcusdt@trade"}));
  EXPECT_EQ(preset_topics(*find_venue_preset("binance-usdm"), "ETHUSDT"),
            (std::vector<std::string>{"ethusdt@depth@100ms", "ethusdt@aggTrade"}));
}

TEST(VenuePreset, SymbolsSplitByTheTopicLimit) {
  const VenuePreset& spot = *find_venue_preset("bybit-spot");  // 10 topics: 5 symbols
  const std::vector<std::string> six = {"A", "B", "C", "D", "E", "F"};
  const auto groups = split_symbols(spot, six);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], (std::vector<std::string>{"A", "B", "C", "D", "E"}));
  EXPECT_EQ(groups[1], (std::vector<std::string>{"F"}));
  EXPECT_EQ(split_symbols(*find_venue_preset("bybit-linear"), six).size(), 1u);
  std::vector<std::string> many;
  for (int i = 0; i < 250; ++i) many.push_back(std::string("S").append(std::to_string(i)));  // append: GCC 12 -Wrestrict
  const auto usdm = split_symbols(*find_venue_preset("binance-usdm"), many);  // 200 topics: 100 symbols
  ASSERT_EQ(usdm.size(), 3u);
  EXPECT_EQ(usdm[0].size(), 100u);
  EXPECT_EQ(usdm[2].size(), 50u);
  EXPECT_TRUE(split_symbols(spot, {}).empty());
}

}  // namespace
