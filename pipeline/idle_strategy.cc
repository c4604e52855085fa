#include "pipeline/idle_strategy.h"

namespace shadow {

std::string_view to_string(IdleKind k) noexcept { return kIdleKindNames.name(k); }

}  // namespace shadow
