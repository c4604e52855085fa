// A FillListener that keeps every fill and order event the simulator reports, for the sim tests.
#pragma once

#include <vector>

#include "sim/fill_simulator.h"

namespace shadow::test_support {

struct FillRecorder final : FillListener {
  std::vector<Fill> fills;
  std::vector<OrderEvent> events;
  void on_fill(const Fill& f) noexcept override { fills.push_back(f); }
  void on_order_event(const OrderEvent& e) noexcept override { events.push_back(e); }
  std::vector<OrderEvent> of_kind(OrderEventKind k) const {
    std::vector<OrderEvent> out;
    for (const auto& e : events) {
      if (e.kind == k) out.push_back(e);
    }
    return out;
  }
};

}  // namespace shadow::test_support
