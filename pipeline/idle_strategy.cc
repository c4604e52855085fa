#include "pipeline/idle_strategy.h"

namespace shadow {

std::string_view to_string(IdleKind k) noexcept {
  switch (k) {
    case IdleKind::kBusySpin: return "busy-spin";
    case IdleKind::kSpinThenYield: return "spin-then-yield";
    case IdleKind::kBackoffPark: return "backoff-park";
  }
  return "unknown";
}

bool parse_idle_kind(std::string_view s, IdleKind& out) noexcept {
  if (s == "busy-spin") return out = IdleKind::kBusySpin, true;
  if (s == "spin-then-yield") return out = IdleKind::kSpinThenYield, true;
  if (s == "backoff-park") return out = IdleKind::kBackoffPark, true;
  return false;
}

}  // namespace shadow
