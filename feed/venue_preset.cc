#include "feed/venue_preset.h"

#include <cctype>

namespace shadow {
namespace {

constexpr VenuePreset kPresets[] = {
    {"bybit-linear", FeedVenue::kBybit, VenueMarket::kLinear, "wss://stream.bybit.com/v5/public/linear", "", "",
     50, 20, 200},
    {"bybit-spot", FeedVenue::kBybit, VenueMarket::kSpot, "wss://stream.bybit.com/v5/public/spot", "", "", 50, 20,
     10},
    {"bybit-linear-testnet", FeedVenue::kBybit, VenueMarket::kLinear,
     "wss://stream-testnet.bybit.com/v5/public/linear", "", "", 50, 20, 200},
    {"bybit-spot-testnet", FeedVenue::kBybit, VenueMarket::kSpot, "wss://stream-testnet.bybit.com/v5/public/spot",
     "", "", 50, 20, 10},
    {"binance-spot", FeedVenue::kBinance, VenueMarket::kSpot, "wss://stream.binance.com:9443/ws",
     "https://api.binance.com", "/api/v3/depth", 1000, 0, 1024},
    {"binance-usdm", FeedVenue::kBinance, VenueMarket::kUsdm, "wss://fstream.binance.com/ws",
     "https://fapi.binance.com", "/fapi/v1/depth", 1000, 0, 200},
    {"binance-spot-testnet", FeedVenue::kBinance, VenueMarket::kSpot, "wss://stream.testnet.binance.vision/ws",
     "https://testnet.binance.vision", "/api/v3/depth", 1000, 0, 1024},
    {"binance-usdm-testnet", FeedVenue::kBinance, VenueMarket::kUsdm, "wss://fstream.binancefuture.com/ws",
     "https://testnet.binancefuture.com", "/fapi/v1/depth", 1000, 0, 200},
};

}  // namespace

std::span<const VenuePreset> venue_presets() noexcept { return kPresets; }

const VenuePreset* find_venue_preset(std::string_view name) noexcept {
  for (const VenuePreset& p : kPresets) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> preset_topics(const VenuePreset& p, std::string_view symbol) {
  if (p.venue == FeedVenue::kBybit) {
    return {"orderbook." + std::to_string(p.depth) + "." + std::string(symbol), "publicTrade." + std::string(symbol)};
  }
  std::string lower(symbol);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return {lower + "@depth@100ms", lower + (p.market == VenueMarket::kUsdm ? "@aggTrade" : "@trade")};
}

std::vector<std::vector<std::string>> split_symbols(const VenuePreset& p, const std::vector<std::string>& symbols) {
  std::vector<std::vector<std::string>> groups;
  std::size_t topics = 0;
  for (const std::string& s : symbols) {
    const std::size_t n = preset_topics(p, s).size();
    if (groups.empty() || topics + n > p.max_topics) {
      groups.emplace_back();
      topics = 0;
    }
    groups.back().push_back(s);
    topics += n;
  }
  return groups;
}

}  // namespace shadow
