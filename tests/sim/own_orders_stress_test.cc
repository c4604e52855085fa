// OwnOrders (sim/own_orders.h) across its two threads: the gateway writes, the engine reads.
// Invariant the writer keeps: every set() moves the quantity at price P to (P mod 7 + 1) units
// and back to 0, so a reader must only ever see 0 or exactly that value at P — never a value of
// another price (a torn read of a slot that was re-used). Carries the `concurrency` label: TSan
// runs it (make test-tsan).
#include "sim/own_orders.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace shadow {
namespace {

constexpr Fixed U = kFixedScale;

TEST(OwnOrdersStress, ReaderNeverSeesATornLevel) {
  OwnOrders own;
  std::atomic<bool> stop{false};
  constexpr int kPrices = 40;  // more than kMaxLevels: slots are freed and re-used
  std::thread writer([&] {
    for (int round = 0; round < 20'000; ++round) {
      const Fixed px = (100 + round % kPrices) * U;
      const Fixed q = (round % kPrices % 7 + 1) * U;
      own.set(Side::kBuy, px, q);
      own.set(Side::kBuy, px, 0);
    }
    stop.store(true, std::memory_order_release);
  });
  std::uint64_t reads = 0, bad = 0;
  while (!stop.load(std::memory_order_acquire)) {
    for (int p = 0; p < kPrices; ++p) {
      const Fixed q = own.qty_at(Side::kBuy, (100 + p) * U);
      if (q != 0 && q != (p % 7 + 1) * U) ++bad;
      ++reads;
    }
  }
  writer.join();
  EXPECT_EQ(bad, 0u) << "of " << reads << " reads";
  for (int p = 0; p < kPrices; ++p) EXPECT_EQ(own.qty_at(Side::kBuy, (100 + p) * U), 0);
  EXPECT_EQ(own.overflow(), 0u);
}

}  // namespace
}  // namespace shadow
