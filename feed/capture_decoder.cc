#include "feed/capture_decoder.h"

namespace shadow {

Protocol detect_protocol(std::string_view message) noexcept {
  const bool bybit = message.find("\"topic\"") != std::string_view::npos ||
                     message.find("\"op\"") != std::string_view::npos;
  return bybit ? Protocol::kBybit : Protocol::kBinance;
}

bool parse_protocol(std::string_view name, Protocol& out) noexcept {
  if (name == "auto") out = Protocol::kAuto;
  else if (name == "bybit") out = Protocol::kBybit;
  else if (name == "binance") out = Protocol::kBinance;
  else return false;
  return true;
}

}  // namespace shadow
