// Venue presets: one table row per public market-data endpoint we connect to, so a user picks
// `--venue bybit-linear` and never types a URL. Each row holds what the venue's documentation
// fixes: the WebSocket URL, the REST base (Binance depth snapshots), the topic names, the book
// depth, the heartbeat, and how many topics one connection may carry.
//
// Sources: Bybit v5 "Connect" (URLs, {"op":"ping"} every 20 s, spot: at most 10 args per
// subscribe request); Binance Spot "WebSocket Streams" (wss://stream.binance.com:9443, 1024
// streams per connection, server pings every 20 s) and "Order Book" REST (GET /api/v3/depth);
// Binance USD-M "Websocket Market Streams" (wss://fstream.binance.com, 200 streams per
// connection, server pings every 3 min) and GET /fapi/v1/depth. Testnets: stream-testnet.bybit.com,
// testnet.binance.vision, binancefuture.com.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "feed/feed_session.h"

namespace shadow {

enum class VenueMarket : std::uint8_t { kSpot, kLinear, kUsdm };

struct VenuePreset {
  std::string_view name;         // "bybit-linear": the --venue / venue.kind spelling
  FeedVenue venue;               // protocol family (decoder, subscribe format)
  VenueMarket market;
  std::string_view ws_url;       // public market data
  std::string_view rest_url;     // REST base for depth snapshots ("" : snapshots come on the socket)
  std::string_view depth_path;   // "/api/v3/depth" | "/fapi/v1/depth" | ""
  int depth;                     // Bybit orderbook.<depth>; Binance snapshot limit
  std::int64_t ping_interval_s;  // client heartbeat; 0: the server pings, we answer
  std::size_t max_topics;        // topics one connection carries (book + trades of a symbol: 2)
};

// Every preset, in the order of the docs' table.
std::span<const VenuePreset> venue_presets() noexcept;
// The preset named `name`, or null.
const VenuePreset* find_venue_preset(std::string_view name) noexcept;

// The book and trade topics of `symbol` on this venue: Bybit orderbook.<depth>.SYM and
// publicTrade.SYM; Binance sym@depth@100ms and sym@trade (spot) or sym@aggTrade (USD-M has no
// raw trade stream).
std::vector<std::string> preset_topics(const VenuePreset& p, std::string_view symbol);

// Symbols split into connections of at most p.max_topics topics, a symbol's topics kept
// together, in the given order. One group per connection.
std::vector<std::vector<std::string>> split_symbols(const VenuePreset& p,
                                                    const std::vector<std::string>& symbols);

}  // namespace shadow
