#include "feed/decode_status.h"

namespace shadow {

std::string_view to_string(DecodeStatus s) noexcept {
  switch (s) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kSkipped: return "skipped";
    case DecodeStatus::kMalformedJson: return "malformed_json";
    case DecodeStatus::kMissingField: return "missing_field";
    case DecodeStatus::kBadValue: return "bad_value";
    case DecodeStatus::kUnknownMessage: return "unknown_message";
    case DecodeStatus::kSymbolTableFull: return "symbol_table_full";
    case DecodeStatus::kSinkFull: return "sink_full";
  }
  return "invalid";
}

}  // namespace shadow
