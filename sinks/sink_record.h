// SinkRecord: one slot of the engine → sinks ring (DESIGN.md data flow): a fill, an order event,
// an order decision, a mid sample (dry-run), an iteration handed over, or the end of the run.
#pragma once

#include <cstdint>
#include <type_traits>

#include "sim/fill_simulator.h"
#include "sim/shadow_order.h"
#include "sinks/dryrun_record.h"

namespace shadow {

enum class SinkRecordKind : std::uint8_t { kFill, kOrder, kShadowOrder, kMark, kIteration, kEnd };

// Trivially copyable: records are written in place into ring slots and copied out by the sinks.
struct SinkRecord {
  SinkRecordKind kind;
  // kFill, kOrder, kShadowOrder: the iteration it belongs to (0 = warm-up);
  // kIteration: the pool index of the closed IterationKpis.
  std::uint32_t index;
  union {
    Fill fill;
    OrderEvent order;
    ShadowOrder shadow_order;
    MarkRecord mark;  // dry-run only: a mid for the markouts
  };
};
static_assert(std::is_trivially_copyable_v<SinkRecord>);

}  // namespace shadow
